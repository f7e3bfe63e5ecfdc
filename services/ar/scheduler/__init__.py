"""The time-driven side: the dunning sweeper."""
