"""The HTTP layer: thin routes over JobDesk, one error table, one set of shared dependencies."""
