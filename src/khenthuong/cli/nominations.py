"""The root's commands on one nomination: `nominate`, `claim-basis`, `advance`,
`advance-batch`, `attach` and `show`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from khenthuong.cli.common import (
    FormatOption,
    OutputFormat,
    actor_for,
    console,
    emit_one,
    moves,
    parse_fields,
    refusal_line,
    report_errors,
    runtime,
)
from khenthuong.commendation import accepted_types, commendation_type_of
from khenthuong.doctypes import DOC_TYPES
from khenthuong.documents.text import money
from khenthuong.localtime import LOCAL_TZ


@report_errors
def nominate(
    workflow: str,
    nominee: str = typer.Option(
        None, "--nominee", help="Họ và tên cá nhân, tìm trong danh sách cá nhân."
    ),
    person: int = typer.Option(None, "--person", help="Số của cá nhân trong danh sách cá nhân."),
    collective: str = typer.Option(
        None, "--collective", "--nominee-unit", help="Mã đơn vị được đề nghị (tập thể)."
    ),
    create_person: bool = typer.Option(
        False, "--create-person", help="Thêm tên ở --nominee vào danh sách cá nhân nếu chưa có."
    ),
    person_unit: str = typer.Option(
        None,
        "--person-unit",
        help="Đơn vị của người được thêm bằng --create-person (mặc định: --unit).",
    ),
    unit: str = typer.Option(..., "--unit", help="Mã đơn vị đề nghị."),
    as_user: str = typer.Option(..., "--as", help="Tên đăng nhập của người đề nghị."),
    year: int = typer.Option(None, "--year", min=1945, max=2100),
    comment: str = typer.Option(None, "--comment"),
    kind: str = typer.Option(
        "thuong_xuyen",
        "--type",
        help=f"Loại hình khen thưởng (Luật TĐKT, Điều 8): {accepted_types()}.",
    ),
    basis: str = typer.Option(
        None, "--basis", help="Căn cứ (điểm của điều luật) được đề nghị, ví dụ 74.1.a."
    ),
    attest: str = typer.Option(
        None, "--attest", help="Xác nhận thành tích cho căn cứ đã chọn (nội dung ngắn)."
    ),
    campaign: int = typer.Option(
        None, "--campaign", help="Số phong trào thi đua mà hồ sơ hướng tới."
    ),
    award: str = typer.Option(
        None,
        "--award",
        help="Mã hình thức khen thưởng, khi quy trình có nhiều hình thức (config/awards.yaml).",
    ),
) -> None:
    """Lập hồ sơ đề nghị cho cá nhân hoặc tập thể; in số hồ sơ mới.

    Cá nhân: --nominee HỌ-TÊN hoặc --person SỐ; tập thể: --collective MÃ-ĐƠN-VỊ. Có --campaign thì
    hồ sơ được gắn vào phong trào ngay trong cùng giao dịch (bị từ chối thì không tạo gì)."""
    if person is not None and collective is not None:
        raise typer.BadParameter("chỉ dùng một trong --person, --collective", param_hint="--person")
    if not (nominee or person or collective):
        raise typer.BadParameter(
            "cần --nominee HỌ-TÊN, --person SỐ-CÁ-NHÂN hoặc --collective MÃ-ĐƠN-VỊ",
            param_hint="--nominee",
        )
    commendation_type = commendation_type_of(kind)
    if commendation_type is None:
        raise typer.BadParameter(
            f"loại hình khen thưởng {kind!r} không hợp lệ; dùng một trong: {accepted_types()}",
            param_hint="--type",
        )
    if attest and not basis:
        raise typer.BadParameter(
            "--attest cần --basis (căn cứ được xác nhận)", param_hint="--attest"
        )
    from khenthuong.services.campaigns import nominate_for_campaign  # noqa: PLC0415

    rt = runtime()
    with actor_for(rt, as_user) as actor:
        nomination_id = nominate_for_campaign(
            rt.engine,
            rt.registry,
            campaign,
            workflow=workflow,
            proposing_unit=unit,
            actor=actor,
            nominee_name=nominee,
            nominee_person_id=person,
            nominee_unit_code=collective,
            nominee_kind="collective" if collective else "individual",
            create_person=create_person,
            person_unit_code=person_unit,
            year=year,
            comment=comment,
            commendation_type=commendation_type,
            basis=basis,
            attestation=attest,
            award_code=award,
        )
    typer.echo(nomination_id)


@report_errors
def claim_basis(
    nomination_id: int,
    basis: str = typer.Argument(..., help="Căn cứ (điểm của điều luật), ví dụ 74.1.b."),
    attest: str = typer.Option(
        None, "--attest", help="Xác nhận thành tích cho căn cứ đã chọn (nội dung ngắn)."
    ),
    as_user: str = typer.Option(..., "--as", help="Tên đăng nhập của cán bộ."),
) -> None:
    """Nêu (hoặc sửa) căn cứ đề nghị của hồ sơ đang mở; căn cứ nêu sau cùng có hiệu lực."""
    from khenthuong.services.grounds import claim_basis_in  # noqa: PLC0415
    from khenthuong.storage.db import write_tx  # noqa: PLC0415

    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        claim = claim_basis_in(conn, nomination_id, basis=basis, statement=attest, actor=actor)
    console.print(f"#{nomination_id}: căn cứ {claim.basis}")


@report_errors
def advance(
    nomination_id: int,
    trigger: str,
    as_user: str = typer.Option(..., "--as", help="Tên đăng nhập của cán bộ thực hiện."),
    comment: str = typer.Option(None, "--comment"),
    field: list[str] = typer.Option(
        [], "--field", help="Trường KHÓA=GIÁ-TRỊ của bước; lặp lại được."
    ),
    expected_version: int = typer.Option(None, "--expected-version"),
) -> None:
    """Thực hiện một bước trên hồ sơ."""
    from khenthuong.services import stepping  # noqa: PLC0415

    rt = runtime()
    payload = parse_fields(field)
    with actor_for(rt, as_user) as actor:
        result = stepping.advance(
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
        f"#{result.nomination_id}: {moves(rt, [result])[result.nomination_id]} "
        f"(phiên bản {result.version}{due})"
    )


@report_errors
def advance_batch(
    trigger: str,
    nomination_ids: list[int] = typer.Argument(..., help="Số các hồ sơ."),
    as_user: str = typer.Option(..., "--as", help="Tên đăng nhập của cán bộ thực hiện."),
    comment: str = typer.Option(None, "--comment"),
    field: list[str] = typer.Option(
        [], "--field", help="Trường KHÓA=GIÁ-TRỊ của bước; lặp lại được."
    ),
    partial: bool = typer.Option(
        False, "--partial", help="Ghi các bước được phép và liệt kê các bước bị từ chối."
    ),
) -> None:
    """Thực hiện một bước trên nhiều hồ sơ trong một giao dịch.

    Mặc định là tất cả hoặc không: một hồ sơ bị từ chối thì cả lô bị từ chối, mọi hồ sơ bị từ chối
    được liệt kê với lý do, và không ghi gì. Có --partial thì các bước được phép vẫn được ghi; mã
    thoát là 1 khi có hồ sơ bị từ chối."""
    from khenthuong.services import stepping  # noqa: PLC0415

    rt = runtime()
    payload = parse_fields(field)
    with actor_for(rt, as_user) as actor:
        done, refused = stepping.advance_batch(
            rt.engine, rt.registry, nomination_ids, trigger, actor, payload,
            comment=comment, partial=partial,
        )  # fmt: skip
    shown = moves(rt, done) if done else {}
    for result in done:
        console.print(f"#{result.nomination_id}: {shown[result.nomination_id]}")
    for nid, refusals in refused.items():
        typer.echo(f"#{nid} bị từ chối:", err=True)
        for refusal in refusals:
            typer.echo(f"  - {refusal_line(refusal)}", err=True)
    console.print(f"{len(done)} bước đã ghi, {len(refused)} bị từ chối")
    if refused:
        raise typer.Exit(1)


@report_errors
def attach(
    nomination_id: int,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    doc_type: str = typer.Option(..., "--type", help=f"Loại tài liệu: {', '.join(DOC_TYPES)}."),
    as_user: str = typer.Option(..., "--as", help="Tên đăng nhập của cán bộ đính kèm."),
    state_secret: bool = typer.Option(False, "--state-secret", help="Đánh dấu tài liệu mật."),
) -> None:
    """Đính kèm tài liệu vào hồ sơ (ghi SHA-256, kích thước, loại; có nhật ký)."""
    from khenthuong.services import dossier  # noqa: PLC0415
    from khenthuong.storage.db import write_tx  # noqa: PLC0415

    rt = runtime()
    limit = rt.settings.max_attachment_bytes
    size = file.stat().st_size
    if size > limit:
        raise typer.BadParameter(
            f"tệp {money(size)} byte vượt giới hạn {money(limit)} byte",
            param_hint="file",
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
        f"#{nomination_id}: đã đính kèm {DOC_TYPES.get(stored.doc_type, stored.doc_type)} "
        f"«{stored.filename}» "
        f"({money(stored.size)} byte, sha256 {stored.sha256[:16]}…)"
    )


@report_errors
def show(
    nomination_id: int,
    as_user: str = typer.Option(
        None, "--as", help="Tên đăng nhập: thêm các bước người này làm được"
    ),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Một hồ sơ: trạng thái, hạn và các bước tiếp theo."""
    from khenthuong.services import nominations as svc  # noqa: PLC0415

    rt = runtime()
    with rt.engine.connect() as conn:
        row = svc.get_row(conn, nomination_id)
    loaded = rt.registry.get(row["workflow"], row["workflow_version"])
    wf = loaded.definition
    state = wf.state(row["state"])
    if fmt is not OutputFormat.table:
        data = {k: v for k, v in row.items() if k != "search_key"}
        data |= {"workflow_title": wf.title.vi, "state_title": state.title.vi}
        if as_user:
            with actor_for(rt, as_user) as actor:
                data["actions"] = [t.trigger for t in svc.allowed_triggers(rt.registry, row, actor)]
        emit_one(data, {"id": "Hồ sơ", "nominee_name": "Cá nhân, tập thể được đề nghị",
                        "workflow_title": "Quy trình", "state_title": "Trạng thái",
                        "year": "Năm", "due_at": "Hạn"}, fmt)  # fmt: skip
        return
    table = Table(show_header=False)
    table.add_row("Hồ sơ", f"#{row['id']}")
    table.add_row("Quy trình", f"{wf.title.vi} ({wf.name} v{wf.version})")
    table.add_row("Cá nhân, tập thể được đề nghị", row["nominee_name"])
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
