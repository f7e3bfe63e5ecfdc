"""Read models built from the event store, each written with its position in one transaction."""
