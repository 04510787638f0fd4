"""Entry point of the `khenthuong` command."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import Engine, select

from khenthuong.audit.query import history as event_history
from khenthuong.cli import (
    audit_cmd,
    blocs_cmd,
    covenants_cmd,
    decisions_cmd,
    reminders_cmd,
    serve_main,
    workflows_cmd,
)
from khenthuong.cli.common import (
    actor_for,
    console,
    parse_fields,
    report_errors,
    runtime,
)
from khenthuong.doctypes import DOC_TYPES
from khenthuong.errors import InvalidDefinition
from khenthuong.localtime import LOCAL_TZ
from khenthuong.roles import roles_in
from khenthuong.rules.catalog import Catalog, load_catalog
from khenthuong.services import checkpoints, dossier
from khenthuong.services import nominations as svc
from khenthuong.services.blocs import apply_blocs, load_blocs
from khenthuong.services.history_import import import_history
from khenthuong.services.org import add_user, apply_seed, load_seed
from khenthuong.settings import get_settings
from khenthuong.storage.db import get_engine, write_tx
from khenthuong.storage.migrate import upgrade
from khenthuong.storage.models import UNITS

app = typer.Typer(
    help="khenthuong: quy trình thi đua, khen thưởng (Vietnamese award nomination workflows).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(workflows_cmd.app, name="workflows")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(blocs_cmd.app, name="blocs")
app.add_typer(reminders_cmd.app, name="reminders")
app.add_typer(decisions_cmd.app, name="decisions")
app.add_typer(covenants_cmd.app, name="covenants")
app.command("serve")(serve_main.serve)
app.add_typer(decisions_cmd.councils_app, name="councils")
users_app = typer.Typer(help="Người dùng (officers).", no_args_is_help=True)
app.add_typer(users_app, name="users")
db_app = typer.Typer(help="Cơ sở dữ liệu (database schema).", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _mount_optional() -> None:
    """Sub-apps that live in their own modules."""
    import importlib  # noqa: PLC0415

    for module, name in (("calendar_cmd", "calendar"), ("inspections_cmd", "inspections")):
        try:
            sub = importlib.import_module(f"khenthuong.cli.{module}")
        except ImportError:  # a part still being built; the rest of the CLI works
            continue
        app.add_typer(sub.app, name=name)


_mount_optional()


@db_app.command("upgrade")
@report_errors
def db_upgrade() -> None:
    """Apply the Alembic migrations to the configured database."""
    upgrade(get_engine())
    console.print("Schema up to date.")


@app.command()
@report_errors
def init(
    demo: bool = typer.Option(False, "--demo", help="Also seed the demo organisations."),
) -> None:
    """Create or upgrade the schema, register the workflows and optionally seed the demo."""
    settings = get_settings()
    engine = get_engine()
    upgrade(engine)
    rt = runtime()
    console.print(f"Cơ sở dữ liệu: {engine.url.render_as_string()}")
    console.print(f"Quy trình: {len(rt.registry.all())} phiên bản đã đăng ký")
    key_file, created = checkpoints.create_key(settings)
    console.print(f"Khóa ký nhật ký: {key_file}" + (" (mới tạo)" if created else ""))
    if demo:
        seed = load_seed(settings.config_dir / "demo.yaml", rt.roles)
        with write_tx(engine) as conn:
            counts = apply_seed(conn, seed, rt.roles)
        with write_tx(engine) as conn:
            known = {u.code for u in seed.units} | set(conn.execute(select(UNITS.c.code)).scalars())
            blocs = apply_blocs(conn, load_blocs(settings.config_dir / "blocs.yaml", known))
        console.print(
            f"Dữ liệu mẫu: {counts['units']} đơn vị, {counts['users']} người dùng, "
            f"{counts['persons']} cá nhân, {blocs} khối thi đua mới"
        )
    _warn_unknown_organisations(settings.config_dir / "awards.yaml", engine)


def _warn_unknown_organisations(path: Path, engine: Engine) -> None:
    """Say which per-organisation overrides of the award catalog name no unit in the database.

    A warning, not an error: a deployment keeps the shipped overrides of organisations it
    does not hold (they simply never apply); a misspelt code is what this catches.
    """
    if not path.exists():
        return
    with engine.connect() as conn:
        units = set(conn.execute(select(UNITS.c.code)).scalars())
    if not units:
        return
    try:
        load_catalog(path, units)
    except InvalidDefinition as exc:
        for problem in exc.problems:
            typer.echo(
                f"Cảnh báo (warning): {problem} — ghi đè này không áp dụng cho đơn vị nào",
                err=True,
            )


@users_app.command("add")
@report_errors
def users_add(
    username: str,
    unit: str = typer.Option(..., "--unit", help="Home unit code."),
    role: list[str] = typer.Option(..., "--role", help="ROLE or ROLE@SCOPE_UNIT; repeatable."),
    email: str = typer.Option(..., "--email"),
    name: str = typer.Option(None, "--name", help="Full name (default: the username)."),
) -> None:
    """Create an officer with roles over unit subtrees (default scope: the home unit)."""
    if "@" not in email:
        raise typer.BadParameter(f"{email!r} is not an e-mail address", param_hint="--email")
    engine = get_engine()
    roles = roles_in(get_settings().config_dir)
    grants = []
    for item in role:
        code, _, scope = item.partition("@")
        grants.append((code, scope or unit))
    with write_tx(engine) as conn:
        user_id = add_user(conn, username, name or username, email, unit, grants, roles)
    console.print(
        f"User {username} (#{user_id}) created with " + ", ".join(f"{r}@{s}" for r, s in grants)
    )


@users_app.command("set-password")
@report_errors
def users_set_password(
    username: str,
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input."
    ),
) -> None:
    """Set a user's password (argon2id); prompts unless --password-stdin."""
    import sys  # noqa: PLC0415

    from khenthuong.services.accounts import set_password  # noqa: PLC0415

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Mật khẩu mới", hide_input=True, confirmation_prompt=True)
    with write_tx(get_engine()) as conn:
        set_password(conn, username, password)
    console.print(f"Đã đặt mật khẩu cho {username} (password set)")


@users_app.command("token")
@report_errors
def users_token(
    username: str,
    name: str = typer.Option("api", "--name", help="What the token is for."),
) -> None:
    """Create a bearer token for API clients; printed once, only its hash is kept."""
    from khenthuong.services.accounts import create_token  # noqa: PLC0415

    with write_tx(get_engine()) as conn:
        token_id, token = create_token(conn, username, name)
    console.print(f"Mã #{token_id} cho {username} (Authorization: Bearer ...):", highlight=False)
    print(token)


@users_app.command("revoke-token")
@report_errors
def users_revoke_token(token_id: int) -> None:
    """Revoke a bearer token by its number."""
    from khenthuong.services.accounts import revoke_token  # noqa: PLC0415

    with write_tx(get_engine()) as conn:
        revoke_token(conn, token_id)
    console.print(f"Đã thu hồi mã #{token_id} (token revoked)")


@app.command()
@report_errors
def nominate(
    workflow: str,
    nominee: str = typer.Option(None, "--nominee", help="Name of the person or collective."),
    person: int = typer.Option(None, "--person", help="Id of a registered person."),
    nominee_unit: str = typer.Option(None, "--nominee-unit", help="Code of a nominated unit."),
    unit: str = typer.Option(..., "--unit", help="Proposing unit code."),
    as_user: str = typer.Option(..., "--as", help="Username of the proposer."),
    year: int = typer.Option(None, "--year", min=1945, max=2100),
    comment: str = typer.Option(None, "--comment"),
) -> None:
    """Create a nomination; prints the new id."""
    if not (nominee or person or nominee_unit):
        raise typer.BadParameter(
            "give --nominee, --person or --nominee-unit", param_hint="--nominee"
        )
    rt = runtime()
    with actor_for(rt, as_user) as actor:
        nomination_id = svc.create_nomination(
            rt.engine,
            rt.registry,
            workflow=workflow,
            proposing_unit=unit,
            actor=actor,
            nominee_name=nominee,
            nominee_person_id=person,
            nominee_unit_code=nominee_unit,
            year=year,
            comment=comment,
        )
    typer.echo(nomination_id)


@app.command()
@report_errors
def advance(
    nomination_id: int,
    trigger: str,
    as_user: str = typer.Option(..., "--as", help="Username of the acting officer."),
    comment: str = typer.Option(None, "--comment"),
    field: list[str] = typer.Option([], "--field", help="KEY=VALUE payload field; repeatable."),
    expected_version: int = typer.Option(None, "--expected-version"),
) -> None:
    """Take one step on a nomination."""
    rt = runtime()
    payload = parse_fields(field)
    with actor_for(rt, as_user) as actor:
        result = svc.advance(
            rt.engine,
            rt.registry,
            nomination_id,
            trigger,
            actor,
            payload,
            comment=comment,
            expected_version=expected_version,
        )
    due = f", hạn {result.due_at.astimezone(LOCAL_TZ):%d/%m/%Y}" if result.due_at else ""
    console.print(
        f"#{result.nomination_id}: {result.from_state} → {result.to_state} "
        f"(phiên bản {result.version}{due})"
    )


@app.command("advance-batch")
@report_errors
def advance_batch(
    trigger: str,
    nomination_ids: list[int] = typer.Argument(..., help="Ids of the nominations."),
    as_user: str = typer.Option(..., "--as", help="Username of the acting officer."),
    comment: str = typer.Option(None, "--comment"),
    field: list[str] = typer.Option([], "--field", help="KEY=VALUE payload field; repeatable."),
    partial: bool = typer.Option(
        False, "--partial", help="Write the permitted steps and list the refused ones."
    ),
) -> None:
    """Take one step on many nominations in one transaction.

    All or nothing by default: one refusal refuses the batch, listing every refused id with
    its reason, and nothing is written. With --partial the permitted steps are written;
    the exit code is 1 whenever a nomination was refused.
    """
    rt = runtime()
    payload = parse_fields(field)
    with actor_for(rt, as_user) as actor:
        done, refused = svc.advance_batch(
            rt.engine, rt.registry, nomination_ids, trigger, actor, payload,
            comment=comment, partial=partial,
        )  # fmt: skip
    for result in done:
        console.print(f"#{result.nomination_id}: {result.from_state} → {result.to_state}")
    for nid, refusals in refused.items():
        typer.echo(f"#{nid} bị từ chối (refused):", err=True)
        for refusal in refusals:
            typer.echo(f"  - {refusal.message_vi}", err=True)
    console.print(f"{len(done)} bước đã ghi, {len(refused)} bị từ chối (done, refused)")
    if refused:
        raise typer.Exit(1)


@app.command()
@report_errors
def attach(
    nomination_id: int,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    doc_type: str = typer.Option(..., "--type", help=f"Document type: {', '.join(DOC_TYPES)}."),
    as_user: str = typer.Option(..., "--as", help="Username of the officer attaching it."),
    state_secret: bool = typer.Option(False, "--state-secret", help="Marks a classified file."),
) -> None:
    """Attach a dossier document to a nomination (SHA-256, size and type recorded, audited)."""
    rt = runtime()
    limit = rt.settings.max_attachment_bytes
    size = file.stat().st_size
    if size > limit:
        raise typer.BadParameter(
            f"tệp {size:,} byte vượt giới hạn {limit:,} byte (file larger than the limit)",
            param_hint="FILE",
        )
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        stored = dossier.attach(
            conn,
            nomination_id,
            doc_type=doc_type,
            filename=file.name,
            content=file.read_bytes(),
            actor=actor,
            max_bytes=limit,
            state_secret=state_secret,
        )
    console.print(
        f"#{nomination_id}: đã đính kèm {stored.doc_type} «{stored.filename}» "
        f"({stored.size:,} byte, sha256 {stored.sha256[:16]}…)"
    )


@app.command()
@report_errors
def documents(nomination_id: int) -> None:
    """List a nomination's dossier documents (type, file, size, SHA-256)."""
    rt = runtime()
    with rt.engine.connect() as conn:
        svc.get_row(conn, nomination_id)
        stored = dossier.documents(conn, nomination_id)
    table = Table("Id", "Loại", "Tệp", "Byte", "SHA-256")
    for doc in stored:
        table.add_row(str(doc.id), doc.doc_type, doc.filename, f"{doc.size:,}", doc.sha256)
    console.print(table if stored else f"#{nomination_id}: chưa có tài liệu (no documents)")


@app.command()
@report_errors
def show(nomination_id: int, as_user: str = typer.Option(None, "--as")) -> None:
    """Show a nomination, its current state and the steps available."""
    rt = runtime()
    with rt.engine.connect() as conn:
        row = svc.get_row(conn, nomination_id)
    loaded = rt.registry.get(row["workflow"], row["workflow_version"])
    wf = loaded.definition
    state = wf.state(row["state"])
    table = Table(show_header=False)
    table.add_row("Hồ sơ", f"#{row['id']}")
    table.add_row("Quy trình", f"{wf.title.vi} ({wf.name} v{wf.version})")
    table.add_row("Người/tập thể được đề nghị", row["nominee_name"])
    table.add_row("Năm", str(row["year"]))
    table.add_row("Trạng thái", f"{state.title.vi} ({row['state']})")
    table.add_row("Phiên bản", str(row["version"]))
    if row["due_at"]:
        table.add_row("Hạn xử lý", f"{row['due_at'].astimezone(LOCAL_TZ):%d/%m/%Y}")
    possible = wf.transitions_from(row["state"])
    if as_user:
        with actor_for(rt, as_user) as actor:
            possible = svc.allowed_triggers(rt.registry, row, actor)
    table.add_row(
        "Bước tiếp theo",
        "\n".join(f"{t.trigger}: {t.title.vi} [{', '.join(t.roles)}]" for t in possible) or "—",
    )
    console.print(table)


@app.command()
@report_errors
def history(
    target: str = typer.Argument(..., help="A nomination id, or the word 'import'."),
    file: Path = typer.Argument(None, help="With 'import': a .csv or .xlsx file."),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json"),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="With import: keep the good rows."),
) -> None:
    """`history ID`: a nomination's timeline. `history import FILE`: load past awards."""
    if target == "import":
        _history_import(file, skip_bad)
        return
    if not target.isdigit():
        raise typer.BadParameter(f"{target!r} is not a nomination id or 'import'")
    nomination_id = int(target)
    rt = runtime()
    with rt.engine.connect() as conn:
        svc.get_row(conn, nomination_id)
        events = event_history(conn, nomination_id)
    if fmt == "json":
        typer.echo(json.dumps(events, default=str, ensure_ascii=False, indent=2))
        return
    table = Table(
        "#",
        "thời gian (giờ VN)",
        "người thực hiện",
        "vai trò",
        "bước",
        "từ",
        "đến",
        "ghi chú / lý do",
    )
    for ev in events:
        note = ev["comment"] or ""
        if "reason" in ev["payload"]:
            note = (note + " " if note else "") + f"Lý do: {ev['payload']['reason']}"
        table.add_row(
            str(ev["seq"]),
            f"{ev['occurred_at'].astimezone(LOCAL_TZ):%d/%m/%Y %H:%M}",
            ev["actor"],
            ev["actor_role"] or "",
            ev["trigger"],
            ev["from_state"] or "",
            ev["to_state"] or "",
            note,
        )
    console.print(table)


@app.command("record")
@report_errors
def record_history(
    record: str = typer.Argument(..., help="award, rating, initiative or blocker"),
    person: str = typer.Option("", "--person", help="Full name (created if new in the unit)."),
    unit: str = typer.Option(..., "--unit", help="Unit code of the person (or the collective)."),
    year: str = typer.Option("", "--year"),
    code: str = typer.Option(
        ...,
        "--code",
        help="award code; rating htxs|htt|ht|kht; initiative scope "
        "grassroots|ministry|national; blocker discipline|investigation|complaint",
    ),
    decision_number: str = typer.Option("", "--decision-number"),
    decision_date: str = typer.Option(
        "", "--date", "--from", help="Decision/recognition date, or a blocker's start (YYYY-MM-DD)."
    ),
    ends_on: str = typer.Option("", "--to", help="A blocker's end (YYYY-MM-DD); open if unset."),
    title: str = typer.Option("", "--title", "--note", help="Initiative title or blocker note."),
    commendation_type: str = typer.Option("", "--type", help="cong_trang, dot_xuat, chuyen_de…"),
    level: str = typer.Option(
        "", "--level", help="A discipline's measure: khien_trach, canh_cao, … or 'Cảnh cáo'."
    ),
) -> None:
    """Record one history entry: a past award, a yearly rating, an initiative or a blocker."""
    from khenthuong.services.history_import import record_one  # noqa: PLC0415

    row = {
        "record": record, "person": person, "unit": unit, "year": year, "code": code,
        "decision_number": decision_number, "decision_date": decision_date, "ends_on": ends_on,
        "title": title, "commendation_type": commendation_type, "level": level,
    }  # fmt: skip
    with write_tx(get_engine()) as conn:
        record_one(conn, row, catalog=_award_catalog(get_settings().config_dir))
    console.print(f"Đã ghi {record} cho {person or unit} (recorded)")


def _history_import(file: Path | None, skip_bad: bool) -> None:
    if file is None:
        raise typer.BadParameter("give the file to import: khenthuong history import FILE")
    if not file.is_file():
        raise typer.BadParameter(f"{file} does not exist")
    rt = runtime()
    catalog = _award_catalog(rt.settings.config_dir)
    with write_tx(rt.engine) as conn:
        # import_history writes nothing when a row is bad and skip_bad is off.
        report = import_history(conn, file, catalog=catalog, skip_bad=skip_bad)
    for line, message in report.errors:
        typer.echo(f"{file}:{line}: {message}", err=True)
    if report.errors and not skip_bad:
        typer.echo(
            f"Không nhập dòng nào: {len(report.errors)} dòng lỗi trên {report.rows} "
            f"(nothing imported; fix the rows above or use --skip-bad)",
            err=True,
        )
        raise typer.Exit(1)
    console.print(
        f"Đã nhập {report.imported}/{report.rows} dòng, tạo {report.persons_created} cá nhân mới"
        + (f", bỏ qua {len(report.errors)} dòng lỗi" if report.errors else "")
    )


def _award_catalog(config_dir: Path) -> Catalog | None:
    """The award catalog (config/awards.yaml), when one is installed: history records are
    checked against its codes and the rules of their decision date."""
    path = config_dir / "awards.yaml"
    if not path.exists():
        return None
    return load_catalog(path)


@app.command()
@report_errors
def demo() -> None:
    """Walk one nomination from proposal to decision with the demo officers."""
    from khenthuong.cli.walkthrough import (  # noqa: PLC0415
        leave_work_in_progress,
        run_council_walkthrough,
        run_covenant_walkthrough,
        run_inspection_walkthrough,
        run_walkthrough,
    )
    from khenthuong.embedded import tick  # noqa: PLC0415

    rt = runtime()
    run_walkthrough(rt, console)
    run_council_walkthrough(rt, console)
    run_covenant_walkthrough(rt, console)
    run_inspection_walkthrough(rt, console)
    leave_work_in_progress(rt, console)
    if not rt.settings.broker_url:
        sent = tick(rt)
        console.print(
            f"Đã gửi {sent.notices_sent} thông báo, {sent.digests_sent} bản nhắc hạn "
            "(không có SMTP: thư nằm trong var/maildir/new)"
        )
        if sent.notices_no_recipient:
            console.print(
                f"[yellow]{sent.notices_no_recipient} thông báo không gửi được: không có địa chỉ "
                "người nhận (no recipient; khenthuong reminders status)[/]"
            )


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()
