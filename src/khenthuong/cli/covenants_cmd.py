"""`khenthuong covenants ...`: a bloc's covenant, reviews and year-end vote."""

from __future__ import annotations

from datetime import date

import typer
from rich.table import Table

from khenthuong.cli.common import actor_for, console, report_errors, runtime
from khenthuong.services import covenants
from khenthuong.storage.db import write_tx

app = typer.Typer(
    help="Giao ước thi đua, sơ kết, tổng kết (covenants and reviews).", no_args_is_help=True
)


def _pairs(items: list[str], option: str) -> dict[str, float]:
    result: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            result[key.strip()] = float(value)
        except ValueError:
            raise typer.BadParameter(f"{item!r} is not CODE=NUMBER", param_hint=option) from None
        if not sep:
            raise typer.BadParameter(f"{item!r} is not CODE=NUMBER", param_hint=option)
    return result


@app.command("launch")
@report_errors
def launch(
    bloc: str = typer.Option(..., "--bloc"),
    year: int = typer.Option(..., "--year"),
    theme: str = typer.Option(..., "--theme"),
    target: list[str] = typer.Option(..., "--target", help="CODE:THRESHOLD:POINTS:DESCRIPTION"),
    on: str = typer.Option(None, "--date", help="Launch date (default today)"),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Launch the year's covenant with its targets (phát động)."""
    targets = []
    for item in target:
        parts = item.split(":", 3)
        if len(parts) != 4:
            raise typer.BadParameter(
                f"{item!r} is not CODE:THRESHOLD:POINTS:DESCRIPTION", param_hint="--target"
            )
        try:
            targets.append(covenants.TargetIn(parts[0], parts[3], float(parts[1]), float(parts[2])))
        except ValueError:
            raise typer.BadParameter(
                f"{item!r}: threshold and points are numbers", param_hint="--target"
            ) from None
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        covenants.launch(
            conn,
            bloc,
            year,
            theme=theme,
            targets=targets,
            launched_on=date.fromisoformat(on) if on else date.today(),
            actor=actor,
        )
    console.print(f"Đã phát động giao ước {bloc} năm {year}: {len(targets)} chỉ tiêu")


@app.command("sign")
@report_errors
def sign(
    bloc: str = typer.Option(..., "--bloc"),
    year: int = typer.Option(..., "--year"),
    unit: list[str] = typer.Option(..., "--unit", help="Repeatable"),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Record members' signatures of the covenant."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        for code in unit:
            covenants.sign(conn, bloc, year, code, signed_on=date.today(), actor=actor)
    console.print(f"Đã ghi {len(unit)} chữ ký giao ước")


@app.command("report")
@report_errors
def report(
    bloc: str = typer.Option(..., "--bloc"),
    year: int = typer.Option(..., "--year"),
    round_: str = typer.Option(..., "--round", help="so_ket or tong_ket"),
    unit: str = typer.Option(..., "--unit"),
    value: list[str] = typer.Option(..., "--value", help="TARGET=NUMBER; repeatable"),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """A member's results against the targets; prints its score."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        score = covenants.report(
            conn, bloc, year, round_, unit, _pairs(value, "--value"), actor=actor
        )
    console.print(f"{unit}: {score:g} điểm ({round_})")


@app.command("vote")
@report_errors
def vote(
    bloc: str = typer.Option(..., "--bloc"),
    year: int = typer.Option(..., "--year"),
    votes: list[str] = typer.Option(..., "--votes", help="UNIT=N; repeatable"),
    voters: int = typer.Option(..., "--voters"),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Record the year-end vote; ranks members and creates their nominations within quota."""
    rt = runtime()
    tally = {k: int(v) for k, v in _pairs(votes, "--votes").items()}
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        covenants.year_end_vote(conn, rt.registry, bloc, year, tally, voters=voters, actor=actor)
        proposed = covenants.proposals(conn, bloc, year)
    table = Table("hạng", "đơn vị", "đề nghị", "hồ sơ", title=f"Suy tôn {bloc} năm {year}")
    for rank, (unit, workflow, nid) in enumerate(proposed, start=1):
        table.add_row(str(rank), unit, workflow or "—", f"#{nid}" if nid else "")
    console.print(table)
