"""Register workflow versions in the database and move open nominations between versions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from khenthuong.audit.append import append_event
from khenthuong.audit.chain import canonical_json, event_hash
from khenthuong.errors import InvalidDefinition, KhenthuongError, Problem
from khenthuong.services.actors import Actor
from khenthuong.services.nominations import due_date, stream_of
from khenthuong.storage.models import EVENTS, NOMINATIONS, WORKFLOW_VERSIONS
from khenthuong.workflow.definition import StateKind, WorkflowDef
from khenthuong.workflow.loader import WorkflowRegistry

VERSIONS = WORKFLOW_VERSIONS


def sync_definitions(
    conn: Connection, registry: WorkflowRegistry, *, actor: str = "system"
) -> list[str]:
    """Record new versions; refuse a changed file under a recorded version.

    Versions recorded earlier whose file is gone are loaded back into the
    registry from the stored definition, so running nominations keep working.
    Returns a line per newly recorded version.
    """
    stored = {(r.name, r.version): r for r in conn.execute(select(VERSIONS)).all()}
    problems: list[Problem] = []
    added: list[str] = []
    for loaded in registry.all():
        key = loaded.definition.key
        row = stored.get(key)
        if row is None:
            conn.execute(
                insert(VERSIONS).values(
                    name=key[0],
                    version=key[1],
                    fingerprint=loaded.fingerprint,
                    definition_json=canonical_json(loaded.definition.model_dump(mode="json")),
                    source=loaded.source,
                    registered_at=datetime.now(UTC),
                )
            )
            append_event(
                conn,
                f"workflow:{key[0]}",
                actor=actor,
                trigger="register_version",
                workflow=key[0],
                payload={
                    "version": key[1],
                    "fingerprint": loaded.fingerprint,
                    "source": loaded.source,
                },
            )
            added.append(f"{key[0]} v{key[1]}")
        elif row.fingerprint != loaded.fingerprint:
            problems.append(
                Problem(
                    loaded.source,
                    1,
                    f"workflow {key[0]!r} version {key[1]} was changed after it was registered "
                    f"(from {row.source}); nominations already follow it. Keep the old file and "
                    f"save the change as version {key[1] + 1}",
                )
            )
    if problems:
        raise InvalidDefinition(problems)
    for key, row in stored.items():
        if key not in registry:
            wf = WorkflowDef.model_validate(json.loads(row.definition_json))
            registry.add(wf, f"database ({row.source})")
    return added


@dataclass(frozen=True)
class MigrationResult:
    """How many nominations moved and which states they came from."""

    moved: int
    by_state: dict[str, int]


def migrate_nominations(
    conn: Connection,
    registry: WorkflowRegistry,
    name: str,
    from_version: int,
    to_version: int,
    state_map: Mapping[str, str],
    actor: Actor,
    *,
    comment: str | None = None,
) -> MigrationResult:
    """Move every open nomination of `name` v`from_version` to v`to_version`, audited."""
    old = registry.get(name, from_version).definition
    new = registry.get(name, to_version).definition
    for source, dest in state_map.items():
        if source not in old.states:
            raise KhenthuongError(
                f"--map {source}={dest}: {source!r} is not a state of v{from_version}"
            )
        if dest not in new.states:
            raise KhenthuongError(
                f"--map {source}={dest}: {dest!r} is not a state of v{to_version}"
            )
    rows = (
        conn.execute(
            select(NOMINATIONS)
            .where(
                NOMINATIONS.c.workflow == name,
                NOMINATIONS.c.workflow_version == from_version,
                NOMINATIONS.c.closed.is_(False),
            )
            .with_for_update()
            if conn.dialect.name == "postgresql"
            else select(NOMINATIONS).where(
                NOMINATIONS.c.workflow == name,
                NOMINATIONS.c.workflow_version == from_version,
                NOMINATIONS.c.closed.is_(False),
            )
        )
        .mappings()
        .all()
    )
    unmapped = sorted(
        {r["state"] for r in rows if r["state"] not in new.states and r["state"] not in state_map}
    )
    if unmapped:
        raise KhenthuongError(
            f"open nominations are in states that v{to_version} lacks: {', '.join(unmapped)}; "
            "give --map OLD=NEW for each"
        )
    now = datetime.now(UTC)
    by_state: dict[str, int] = {}
    for row in rows:
        dest = state_map.get(row["state"], row["state"])
        dest_def = new.state(dest)
        version = row["version"] + 1
        event = {
            "stream": stream_of(row["id"]),
            "seq": version,
            "nomination_id": row["id"],
            "workflow": name,
            "occurred_at": now,
            "actor": actor.username,
            "actor_role": "admin",
            "actor_unit": actor.unit_code,
            "trigger": "migrate_version",
            "from_state": row["state"],
            "to_state": dest,
            "comment": comment,
            "payload": canonical_json({"from_version": from_version, "to_version": to_version}),
            "prev_hash": row["head_hash"],
        }
        event["hash"] = event_hash(event)
        moved_state = dest != row["state"]
        conn.execute(
            update(NOMINATIONS)
            .where(NOMINATIONS.c.id == row["id"], NOMINATIONS.c.version == row["version"])
            .values(
                workflow_version=to_version,
                state=dest,
                version=version,
                head_hash=event["hash"],
                closed=dest_def.closed or dest_def.kind is StateKind.terminal,
                **(
                    {"state_entered_at": now, "due_at": due_date(dest_def, now)}
                    if moved_state
                    else {}
                ),
            )
        )
        conn.execute(insert(EVENTS).values(**event))
        by_state[row["state"]] = by_state.get(row["state"], 0) + 1
    return MigrationResult(len(rows), by_state)
