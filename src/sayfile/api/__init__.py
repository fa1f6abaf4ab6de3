"""The HTTP layer: thin routes over the services, one error table, one set of shared
dependencies, and the HTTP/1.1 protocol `sayfile serve` runs; and the Wyoming protocol's
events (wyoming_speech.py), the other way in to the same services.

May import: services/ and everything below; never app.py, cli/, wiring.py or
wyoming_server.py."""
