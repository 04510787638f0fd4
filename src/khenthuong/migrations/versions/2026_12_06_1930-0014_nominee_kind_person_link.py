"""nominee kind: every nomination says whether it is for an individual or a collective;
typed individual names are linked to the person register where exactly one person matches

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 19:30:00

Data: a nomination with a nominee unit and no person is 'collective'; one with a person is
'individual'; one with neither (a name typed before names were resolved) is linked to the one
person whose name matches (NFC, single spaces, case folded, diacritics kept; people of the
proposing unit's subtree first), else it stays unlinked and is reported on the
`khenthuong.migrations` logger: 'collective' if its workflow is for collectives only,
otherwise 'individual' (award money was wrongly paid at the collective rate for these).
"""

import json
import logging
import unicodedata
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import context, op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("khenthuong.migrations")


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("birth_year", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "name_key",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                nullable=False,
                server_default="",
            )
        )
        batch_op.create_index(batch_op.f("ix_person_name_key"), ["name_key"], unique=False)
    with op.batch_alter_table("nomination", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "nominee_kind",
                sqlmodel.sql.sqltypes.AutoString(length=12),
                nullable=False,
                server_default="individual",
            )
        )
        batch_op.create_check_constraint(
            op.f("ck_nomination_nominee_kind"), "nominee_kind IN ('individual', 'collective')"
        )
    op.execute(
        "UPDATE nomination SET nominee_kind = 'collective' "
        "WHERE nominee_unit_id IS NOT NULL AND nominee_person_id IS NULL"
    )
    if context.is_offline_mode():
        log.warning(
            "offline mode: person.name_key is not filled and typed nominee names are not "
            "linked to the person register; run this revision online"
        )
        return
    fill_name_keys(op.get_bind())
    link_typed_names(op.get_bind())


def _key(name: str) -> str:
    """Frozen copy of khenthuong.textsearch.name_key (a migration must not change later)."""
    spaced = " ".join(unicodedata.normalize("NFC", name).split())
    return unicodedata.normalize("NFC", spaced.casefold())


def fill_name_keys(conn: sa.Connection) -> None:
    """Every person's name_key, from their full_name."""
    person = sa.Table("person", sa.MetaData(), autoload_with=conn)
    rows = conn.execute(sa.select(person.c.id, person.c.full_name)).all()
    if rows:
        conn.execute(
            sa.update(person)
            .where(person.c.id == sa.bindparam("pid"))
            .values(name_key=sa.bindparam("key")),
            [{"pid": r.id, "key": _key(r.full_name)} for r in rows],
        )


def link_typed_names(conn: sa.Connection) -> tuple[list[int], list[tuple[int, str]]]:
    """Link unlinked nominations to the unique matching person; (linked ids, (id, name) left)."""
    meta = sa.MetaData()
    person = sa.Table("person", meta, autoload_with=conn)
    unit = sa.Table("unit", meta, autoload_with=conn)
    nomination = sa.Table("nomination", meta, autoload_with=conn)
    versions = sa.Table("workflow_version", meta, autoload_with=conn)
    people: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for p in conn.execute(
        sa.select(person.c.id, person.c.full_name, unit.c.path).join(
            unit, unit.c.id == person.c.unit_id
        )
    ):
        people[_key(p.full_name)].append((p.id, p.path))
    collective_only = set()
    for v in conn.execute(
        sa.select(versions.c.name, versions.c.version, versions.c.definition_json)
    ):
        if json.loads(v.definition_json).get("subject") == ["collective"]:
            collective_only.add((v.name, v.version))
    linked: list[int] = []
    left: list[tuple[int, str]] = []
    rows = conn.execute(
        sa.select(
            nomination.c.id,
            nomination.c.nominee_name,
            nomination.c.unit_path,
            nomination.c.workflow,
            nomination.c.workflow_version,
        )
        .where(nomination.c.nominee_person_id.is_(None), nomination.c.nominee_unit_id.is_(None))
        .order_by(nomination.c.id)
    ).all()
    for row in rows:
        found = people.get(_key(row.nominee_name), [])
        inside = [pid for pid, path in found if path.startswith(row.unit_path)]
        choice = inside or [pid for pid, _ in found]
        if len(choice) == 1 and (row.workflow, row.workflow_version) not in collective_only:
            conn.execute(
                sa.update(nomination)
                .where(nomination.c.id == row.id)
                .values(nominee_person_id=choice[0], nominee_kind="individual")
            )
            linked.append(row.id)
            continue
        if (row.workflow, row.workflow_version) in collective_only:
            conn.execute(
                sa.update(nomination)
                .where(nomination.c.id == row.id)
                .values(nominee_kind="collective")
            )
        left.append((row.id, row.nominee_name))
        why = f"{len(choice)} people match" if choice else "no person matches"
        log.warning("nomination #%s %r not linked: %s", row.id, row.nominee_name, why)
    if not rows:
        return linked, left
    (log.warning if left else log.info)(
        "nominee names: %d nominations linked to the person register, %d left unlinked%s",
        len(linked),
        len(left),
        (": " + ", ".join(f"#{i}" for i, _ in left)) if left else "",
    )
    return linked, left


def downgrade() -> None:
    # Links made by the upgrade stay: they point at the right person either way.
    with op.batch_alter_table("nomination", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_nomination_nominee_kind"), type_="check")
        batch_op.drop_column("nominee_kind")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_name_key"))
        batch_op.drop_column("name_key")
        batch_op.drop_column("birth_year")
