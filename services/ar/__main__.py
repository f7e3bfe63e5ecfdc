"""`python -m ar`: the `ar` command (how `ar serve` starts its worker process, whatever script started it)."""

from ar.cli import main

main()
