"""Import every table module so the metadata is complete (migrations, schema tests)."""

from khenthuong.storage import (
    batches,
    blocs,
    coordination,
    councils,
    decisions,
    documents,
    dossier,
    history,
    models,
    outbox,
    seal,
)

__all__ = [
    "batches",
    "blocs",
    "coordination",
    "councils",
    "decisions",
    "documents",
    "dossier",
    "history",
    "models",
    "outbox",
    "seal",
]
