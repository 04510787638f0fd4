"""Import every table module so the metadata is complete (migrations, schema tests)."""

from khenthuong.storage import councils, decisions, dossier, history, models, outbox

__all__ = ["councils", "decisions", "dossier", "history", "models", "outbox"]
