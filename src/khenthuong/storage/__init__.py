"""Database tables, engine and sessions (the storage edge)."""
