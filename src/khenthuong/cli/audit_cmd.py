"""`khenthuong audit ...`: verify the hash chains and query the trail."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select

from khenthuong.audit.query import COLUMNS, AuditFilter, query_events
from khenthuong.audit.verify import verify_all
from khenthuong.cli.common import console, report_errors, runtime, stdout_is_tty
from khenthuong.storage.models import EVENTS
from khenthuong.tabular import write_csv

app = typer.Typer(help="Nhật ký kiểm tra (audit trail).", no_args_is_help=True)


def _when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO date or datetime", param_hint=option
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command("verify")
@report_errors
def verify() -> None:
    """Check every hash chain; exit 1 naming the first altered, deleted or reordered event."""
    rt = runtime()
    with rt.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(EVENTS)).scalar_one()
        if stdout_is_tty():
            with Progress(
                TextColumn("Kiểm tra chuỗi băm"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                task = progress.add_task("verify", total=total)
                report = verify_all(conn, progress=lambda n: progress.advance(task, n))
        else:
            report = verify_all(conn)
    if report.ok:
        console.print(
            f"OK: {report.events} sự kiện trong {report.streams} chuỗi, không có thay đổi "
            f"({report.events} events in {report.streams} chains verified)"
        )
        return
    first = report.findings[0]
    typer.echo(f"HỎNG (BROKEN): {len(report.findings)} chain(s) broken. First: {first}", err=True)
    for finding in report.findings[1:20]:
        typer.echo(f"  {finding}", err=True)
    raise typer.Exit(1)


@app.command("query")
@report_errors
def query(
    actor: str = typer.Option(None, "--actor"),
    unit: str = typer.Option(None, "--unit", help="Unit code; includes its subtree."),
    workflow: str = typer.Option(None, "--workflow"),
    trigger: str = typer.Option(None, "--trigger"),
    state: str = typer.Option(None, "--state"),
    nomination: int = typer.Option(None, "--nomination"),
    since: str = typer.Option(None, "--since", help="ISO date/time (UTC unless offset given)."),
    until: str = typer.Option(None, "--until"),
    limit: int = typer.Option(1000, "--limit", min=1, max=1_000_000),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv"),
) -> None:
    """Filter events by actor, unit, workflow, trigger, state and time range."""
    if fmt not in ("table", "json", "csv"):
        raise typer.BadParameter("use table, json or csv", param_hint="--format")
    rt = runtime()
    criteria = AuditFilter(
        actor=actor,
        unit=unit,
        workflow=workflow,
        trigger=trigger,
        state=state,
        nomination_id=nomination,
        since=_when(since, "--since"),
        until=_when(until, "--until"),
        limit=limit,
    )
    with rt.engine.connect() as conn:
        rows = list(query_events(conn, criteria))
    if fmt == "json":
        typer.echo(json.dumps(rows, default=str, ensure_ascii=False, indent=2))
        return
    if fmt == "csv":
        fields = list(COLUMNS)
        write_csv(
            sys.stdout,
            fields,
            (
                [
                    json.dumps(r["payload"], ensure_ascii=False) if k == "payload" else r[k]
                    for k in fields
                ]
                for r in rows
            ),
        )
        return
    table = Table(
        "time (UTC)", "stream", "seq", "actor", "role", "unit", "trigger", "from", "to", "comment"
    )
    for row in rows:
        table.add_row(
            row["occurred_at"].strftime("%Y-%m-%d %H:%M:%S"),
            row["stream"],
            str(row["seq"]),
            row["actor"],
            row["actor_role"] or "",
            row["actor_unit"] or "",
            row["trigger"],
            row["from_state"] or "",
            row["to_state"] or "",
            row["comment"] or "",
        )
    console.print(table)
    console.print(f"{len(rows)} event(s)")
