"""Import every table module so the metadata is complete (migrations, schema tests)."""

from khenthuong.storage import (
    batches,
    blocs,
    campaigns,
    coordination,
    councils,
    decisions,
    delegations,
    documents,
    dossier,
    history,
    models,
    org_history,
    outbox,
    password_links,
    registrations,
    seal,
)

__all__ = [
    "batches",
    "blocs",
    "campaigns",
    "coordination",
    "councils",
    "decisions",
    "delegations",
    "documents",
    "dossier",
    "history",
    "models",
    "org_history",
    "outbox",
    "password_links",
    "registrations",
    "seal",
]
