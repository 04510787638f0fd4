"""Import every table module so the metadata is complete (migrations, schema tests)."""

from khenthuong.storage import (
    batches,
    blocs,
    councils,
    decisions,
    documents,
    dossier,
    history,
    models,
    org_history,
    outbox,
    seal,
)

__all__ = [
    "batches",
    "blocs",
    "councils",
    "decisions",
    "documents",
    "dossier",
    "history",
    "models",
    "org_history",
    "outbox",
    "seal",
]
