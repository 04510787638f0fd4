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
    outbox,
    registrations,
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
    "outbox",
    "registrations",
    "seal",
]
