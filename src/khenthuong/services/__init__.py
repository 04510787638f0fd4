"""Use cases: each function owns its transaction; routes, tasks and CLI call these."""
