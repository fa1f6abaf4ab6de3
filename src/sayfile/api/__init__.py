"""The HTTP layer: thin routes over the services, one error table, one set of shared
dependencies, and the HTTP/1.1 protocol `sayfile serve` runs.

May import: services/ and everything below; never app.py, cli/ or wiring.py."""
