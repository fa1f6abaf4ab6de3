"""`python -m sayfile` is the `sayfile` command."""

from sayfile.cli import main

main()
