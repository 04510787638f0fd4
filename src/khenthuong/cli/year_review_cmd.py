"""`khenthuong year-review …`: the unit's year-end review (bình xét) in one pass."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import typer
from rich.table import Table

from khenthuong.cli.common import (
    FormatOption,
    OutputFormat,
    actor_for,
    console,
    emit,
    report_errors,
    runtime,
)
from khenthuong.cli.registrations_cmd import day
from khenthuong.documents.text import money
from khenthuong.errors import KhenthuongError
from khenthuong.localtime import local_date
from khenthuong.rules.catalog import Catalog, catalog_in
from khenthuong.services import year_review
from khenthuong.services.unit_sheets import award_of
from khenthuong.storage.db import write_tx

app = typer.Typer(help="Bình xét thi đua cuối năm của đơn vị.", no_args_is_help=True)


def _code(catalog: Catalog, text: str) -> str:
    code = award_of(catalog, text)
    if code is None:
        raise KhenthuongError(f"Không có danh hiệu {text!r} trong danh mục")
    return code


def _tally(text: str, option: str) -> year_review.Tally:
    try:
        numbers = [int(x) for x in text.split("/")]
    except ValueError:
        numbers = []
    if not 1 <= len(numbers) <= 4:
        raise typer.BadParameter(
            f"{text!r}: dùng ĐỒNG-Ý[/KHÔNG[/KHÔNG-Ý-KIẾN[/BẰNG-VĂN-BẢN]]]", param_hint=option
        )
    return year_review.Tally(*numbers)


@app.command("propose")
@report_errors
def propose(
    unit: str = typer.Option(..., "--unit"),
    year: int = typer.Option(..., "--year"),
    title: str | None = typer.Option(None, "--title", help="Trích yếu của tờ trình."),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Lập một đợt đề nghị với hồ sơ cho mọi danh hiệu đã đăng ký trong năm của đơn vị.

    In số đợt; sau đó dùng `proposals attach` và `proposals advance SỐ submit`."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        try:
            batch_id, ids = year_review.propose_in(
                conn, rt.registry, catalog_in(rt.settings.config_dir), unit=unit, year=year,
                actor=actor, title=title or f"Đề nghị công nhận danh hiệu thi đua năm {year}",
            )  # fmt: skip
        except year_review.NothingToReview as exc:
            raise KhenthuongError(f"{exc} (đăng ký: khenthuong registrations add)") from None
    console.print(f"Đợt đề nghị #{batch_id}: {len(ids)} hồ sơ", style="bold")
    typer.echo(batch_id)


@app.command("tally")
@report_errors
def tally(
    session: int,
    batch: int = typer.Option(..., "--batch"),
    vote: list[str] = typer.Option(
        ...,
        "--vote",
        # No [/…] in help text: Rich reads it as a closing markup tag and --help crashes.
        help="DANH-HIỆU=ĐỒNG-Ý/KHÔNG/KHÔNG-Ý-KIẾN/BẰNG-VĂN-BẢN (ba số sau có thể bỏ), mỗi danh hiệu một lần.",
    ),
    exception: list[str] = typer.Option(
        [], "--except", help="HỒ-SƠ=ĐỒNG-Ý/KHÔNG/KHÔNG-Ý-KIẾN: kết quả riêng của một hồ sơ."
    ),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Biểu quyết cả danh sách của từng danh hiệu một lần.

    Mọi hồ sơ của đợt đang chờ Hội đồng này nhận kết quả biểu quyết của danh hiệu mình (mỗi danh
    hiệu ghi một lần)."""
    rt = runtime()
    catalog = catalog_in(rt.settings.config_dir)
    votes = {}
    for item in vote:
        code, sep, numbers = item.partition("=")
        if not sep:
            raise typer.BadParameter(
                f"{item!r}: dùng DANH-HIỆU=ĐỒNG-Ý/KHÔNG/KHÔNG-Ý-KIẾN", param_hint="--vote"
            )
        votes[_code(catalog, code)] = _tally(numbers, "--vote")
    own = {}
    for item in exception:
        nid, sep, numbers = item.partition("=")
        if not sep or not nid.isdigit():
            raise typer.BadParameter(
                f"{item!r}: dùng HỒ-SƠ=ĐỒNG-Ý/KHÔNG/KHÔNG-Ý-KIẾN", param_hint="--except"
            )
        own[int(nid)] = _tally(numbers, "--except")
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        counts = year_review.tally_titles_in(
            conn, rt.registry, catalog, session, batch, votes, actor=actor, exceptions=own
        )
    for code, n in counts.items():
        console.print(f"{catalog.award(code).name.vi}: {n} hồ sơ")


@app.command("close")
@report_errors
def close(session: int, as_user: str = typer.Option(..., "--as")) -> None:
    """Kết thúc phiên họp: mọi hồ sơ chuyển bước; in biên bản với số phiếu từng danh hiệu."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        minutes = year_review.close_in(
            conn, rt.registry, catalog_in(rt.settings.config_dir), session, actor=actor
        )
    typer.echo(minutes)


@app.command("decide")
@report_errors
def decide(
    batch: int = typer.Option(..., "--batch"),
    number: list[str] = typer.Option(
        ..., "--number", help="DANH-HIỆU=<số>/QĐ-<ký hiệu>, mỗi danh hiệu một lần."
    ),
    signer: str = typer.Option(..., "--signer"),
    authority: str = typer.Option(..., "--authority"),
    on: str | None = typer.Option(None, "--date"),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Ký một quyết định cho mỗi danh hiệu, cho các hồ sơ của đợt chờ thủ trưởng quyết định."""
    rt = runtime()
    catalog = catalog_in(rt.settings.config_dir)
    numbers = {}
    for item in number:
        code, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r}: dùng DANH-HIỆU=SỐ", param_hint="--number")
        numbers[_code(catalog, code)] = value.strip()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        signed = year_review.decide_titles_in(
            conn, rt.registry, catalog, batch, numbers, signer=signer, authority=authority,
            decided_on=day(on, "--date") or local_date(datetime.now(UTC)), actor=actor,
        )  # fmt: skip
    for code, lines in signed.items():
        console.print(
            f"Quyết định {numbers[code]} — {catalog.award(code).name.vi}: "
            f"{catalog.award(code).count_vi(len(lines))}, "
            f"{money(sum(x.amount_vnd for x in lines))} đồng"
        )


@app.command("show")
@report_errors
def show(batch: int, fmt: FormatOption = OutputFormat.table) -> None:
    """Các hồ sơ của đợt theo danh hiệu, với trạng thái."""
    rt = runtime()
    catalog = catalog_in(rt.settings.config_dir)
    with rt.engine.connect() as conn:
        found = year_review.review_view(conn, rt.registry, catalog, batch)
    if fmt is not OutputFormat.table:
        emit(
            [asdict(m) | {"award_code": code, "award_name": catalog.award(code).name.vi}
             for code, members in found["titles"].items() for m in members],
            [("award_name", "Danh hiệu"), ("nomination_id", "Hồ sơ"),
             ("nominee_name", "Được đề nghị"), ("state_title", "Trạng thái")],
            fmt,
        )  # fmt: skip
        return
    console.print(f"[bold]Đợt đề nghị #{batch}: {found['batch'].title}[/]")
    for code, members in found["titles"].items():
        award = catalog.award(code)
        table = Table("hồ sơ", award.awardees_vi, "trạng thái", title=award.name.vi)
        for m in members:
            table.add_row(f"#{m.nomination_id}", m.nominee_name, m.state_title)
        console.print(table)
