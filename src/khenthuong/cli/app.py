"""Entry point of the `khenthuong` command."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from khenthuong.cli.common import (
    ExitCode,
    FormatOption,
    OutputFormat,
    actor_for,
    console,
    emit,
    emit_one,
    fail,
    moves,
    parse_fields,
    print_capped,
    progress,
    readable_help,
    refusal_line,
    report_errors,
    runtime,
)
from khenthuong.cli.lazy import LazyGroup, Mount
from khenthuong.cli.prompts import ask
from khenthuong.commendation import accepted_types, commendation_type_of
from khenthuong.doctypes import DOC_TYPES
from khenthuong.documents.text import money
from khenthuong.errors import InvalidDefinition
from khenthuong.localtime import LOCAL_TZ

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from khenthuong.rules.catalog import Catalog
    from khenthuong.runtime import Runtime

# The sub-commands in modules of their own, imported when used (`khenthuong --help` and a
# read command start without the web app, document rendering or the spreadsheet readers).
# `help` is what the root's help lists: the sub-app's own help or the command's docstring
# (tests/cli/test_lazy_cli.py checks they agree).
MOUNTS = (
    Mount("serve", "serve_main", "serve",
          "Chạy máy chủ web và API; không có KHENTHUONG_BROKER_URL thì chạy cả nhắc hạn, thông báo."
          "\n\nNhắc hạn, thông báo chạy trong một tiến trình con riêng; khi nhiều máy chủ dùng chung"
          " một cơ sở\ndữ liệu, chỉ một máy chủ chạy chúng."),
    Mount("stats", "stats_cmd", "stats",
          "Thống kê khen thưởng đã quyết định theo hình thức, cấp, đối tượng, loại, đơn vị, năm."
          "\n\nTheo sổ khen thưởng: các quyết định và lịch sử đã nhập; không tính khen thưởng đã"
          " thu hồi."),
    Mount("workflows", "workflows_cmd", "app", "Quy trình khen thưởng."),
    Mount("audit", "audit_cmd", "app", "Nhật ký kiểm tra."),
    Mount("blocs", "blocs_cmd", "app", "Khối, cụm thi đua."),
    Mount("reminders", "reminders_cmd", "app", "Nhắc hạn và thông báo."),
    Mount("decisions", "decisions_cmd", "app", "Quyết định khen thưởng."),
    Mount("covenants", "covenants_cmd", "app",
          "Giao ước thi đua, sơ kết, tổng kết."),
    Mount("persons", "persons_cmd", "app", "Danh sách cá nhân."),
    Mount("delegations", "delegations_cmd", "app", "Ủy quyền, ký thay."),
    Mount("registrations", "registrations_cmd", "app", "Đăng ký thi đua."),
    Mount("ratings", "ratings_cmd", "app", "Xếp loại cuối năm."),
    Mount("year-review", "year_review_cmd", "app",
          "Bình xét thi đua cuối năm của đơn vị."),
    Mount("councils", "decisions_cmd", "councils_app", "Phiên họp Hội đồng Thi đua - Khen thưởng."),
    Mount("users", "users_cmd", "app", "Tài khoản cán bộ."),
    Mount("units", "org_files_cmd", "units_app", "Cây đơn vị."),
    Mount("calendar", "calendar_cmd", "app", "Lịch ngày làm việc."),
    Mount("inspections", "inspections_cmd", "app", "Kế hoạch kiểm tra chéo."),
    Mount("documents", "documents_cmd", "app",
          "Văn bản: tài liệu của hồ sơ (lệnh list) và văn bản do hệ thống tạo (lệnh render, sign, verify)."),
    Mount("proposals", "proposals_cmd", "app",
          "Đợt đề nghị khen thưởng: một tờ trình, một danh sách."),
    Mount("campaigns", "campaigns_cmd", "app",
          "Phong trào thi đua: thường xuyên, theo đợt, chuyên đề."),
)  # fmt: skip


class _Root(LazyGroup):
    mounts = MOUNTS


app = typer.Typer(
    help="khenthuong: quản lý quy trình thi đua, khen thưởng.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=_Root,
)
_Root.root = app
db_app = typer.Typer(help="Lược đồ cơ sở dữ liệu.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@report_errors
def db_upgrade() -> None:
    """Cập nhật lược đồ cơ sở dữ liệu (chạy các bản chuyển đổi Alembic)."""
    from khenthuong.storage.db import get_engine  # noqa: PLC0415
    from khenthuong.storage.migrate import upgrade  # noqa: PLC0415

    with progress("Cập nhật lược đồ", None):
        upgrade(get_engine())
    console.print("Lược đồ cơ sở dữ liệu đã cập nhật.")


@app.command()
@report_errors
def init(
    demo: bool = typer.Option(False, "--demo", help="Thêm cả các tổ chức mẫu."),
    org: str = typer.Option(None, "--org", help="Mã đơn vị cao nhất của tổ chức (ví dụ BCY)."),
    org_name: str = typer.Option(
        None, "--org-name", help="Tên đơn vị đó (ví dụ Ban Cơ yếu Chính phủ)."
    ),
    org_level: str = typer.Option(
        "ministry",
        "--org-level",
        help="Cấp: unit (đơn vị), ministry (bộ) hoặc national (trung ương).",
    ),
    admin: str = typer.Option(None, "--admin", help="Tên đăng nhập của quản trị viên đầu tiên."),
    admin_name: str = typer.Option(None, "--admin-name", help="Họ và tên của quản trị viên."),
    admin_email: str = typer.Option(
        None, "--admin-email", help="Địa chỉ thư điện tử của quản trị viên."
    ),
    admin_password_stdin: bool = typer.Option(
        False, "--admin-password-stdin", help="Đọc mật khẩu quản trị viên từ đầu vào chuẩn."
    ),
) -> None:
    """Tạo hoặc nâng cấp cơ sở dữ liệu, đăng ký các quy trình; --demo thêm dữ liệu mẫu.

    Không có --demo thì hệ thống trống: quản trị viên đầu tiên và đơn vị cao nhất của tổ chức được
    tạo từ các tùy chọn --org, --admin, được hỏi trên màn hình dòng lệnh, hoặc để lại cho lần chạy
    sau."""
    from sqlalchemy import select  # noqa: PLC0415

    from khenthuong.rules.issuers import issuers_in  # noqa: PLC0415
    from khenthuong.services import checkpoints  # noqa: PLC0415
    from khenthuong.services.blocs import apply_blocs, load_blocs  # noqa: PLC0415
    from khenthuong.services.org import apply_seed, load_seed  # noqa: PLC0415
    from khenthuong.settings import get_settings  # noqa: PLC0415
    from khenthuong.storage.db import get_engine, write_tx  # noqa: PLC0415
    from khenthuong.storage.migrate import upgrade  # noqa: PLC0415
    from khenthuong.storage.models import UNITS  # noqa: PLC0415

    settings = get_settings()
    engine = get_engine()
    upgrade(engine)
    rt = runtime()
    issuers_in(settings.config_dir)  # a malformed config/issuers.yaml fails here, not at signing
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
    else:
        _first_admin(rt, org, org_name, org_level, admin, admin_name, admin_email,
                     admin_password_stdin)  # fmt: skip
    _warn_unknown_organisations(settings.config_dir / "awards.yaml", engine)


def _first_admin(
    rt: Runtime,
    org: str | None,
    org_name: str | None,
    org_level: str,
    admin: str | None,
    admin_name: str | None,
    admin_email: str | None,
    password_stdin: bool,
) -> None:
    """The first administrator of an empty system, from options, a terminal or not at all."""
    import sys  # noqa: PLC0415

    from khenthuong.services import golive  # noqa: PLC0415
    from khenthuong.storage.db import write_tx  # noqa: PLC0415

    with rt.engine.connect() as conn:
        if golive.has_admin(conn):
            return
    asking = sys.stdin.isatty() and not password_stdin
    if admin is None and not asking:
        console.print(
            'Chưa có quản trị viên. Tạo bằng: khenthuong init --org MÃ --org-name "TÊN" '
            "--admin TÊN_ĐĂNG_NHẬP --admin-email EMAIL --admin-password-stdin < tệp-mật-khẩu"
        )
        return
    org = org or ask("Mã đơn vị gốc (ví dụ BCY)")
    org_name = org_name or ask("Tên đơn vị gốc")
    admin = admin or ask("Tên đăng nhập của quản trị viên")
    admin_name = admin_name or (ask("Họ và tên") if asking else admin)
    admin_email = admin_email or ask("Thư điện tử")
    if "@" not in admin_email:
        raise typer.BadParameter(
            f"{admin_email!r} không phải địa chỉ thư", param_hint="--admin-email"
        )
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = ask("Mật khẩu", secret=True, twice=True)
    demo_password, _ = golive.demo_password_of(rt.settings.config_dir)
    with write_tx(rt.engine) as conn:
        user_id = golive.create_first_admin(
            conn, rt.roles, org_code=org, org_name=org_name, org_level=org_level,
            username=admin, full_name=admin_name, email=admin_email, password=password,
            demo_password=demo_password,
        )  # fmt: skip
    console.print(f"Quản trị viên {admin} (#{user_id}) của {org} đã được tạo; đăng nhập tại /login")


@app.command()
@report_errors
def backup(file: Path = typer.Argument(..., help="Tệp sao lưu cần ghi (.tar.gz).")) -> None:
    """Sao lưu hồ sơ: cơ sở dữ liệu (kể cả tài liệu) và các tệp điểm kiểm tra nhật ký."""
    from khenthuong.services.backup import backup as write_backup  # noqa: PLC0415
    from khenthuong.settings import get_settings  # noqa: PLC0415
    from khenthuong.storage.db import get_engine  # noqa: PLC0415

    report = write_backup(get_engine(), Path(get_settings().state_dir), file)
    rows = sum(report.tables.values())
    console.print(
        f"Đã sao lưu {report.dialect} (phiên bản lược đồ {report.revision}): "
        f"{len(report.tables)} bảng, {rows:_} dòng, ".replace("_", ".")
        + f"{len(report.state_files)} tệp trạng thái -> {report.path}"
    )


@app.command()
@report_errors
def restore(
    file: Path = typer.Argument(..., help="Tệp sao lưu do `khenthuong backup` ghi."),
) -> None:
    """Khôi phục bản sao lưu vào cơ sở dữ liệu trống.

    Cơ sở dữ liệu đã cấu hình phải trống; khôi phục xong thì chạy `khenthuong audit verify`."""
    from khenthuong.services.backup import restore as read_backup  # noqa: PLC0415
    from khenthuong.settings import get_settings  # noqa: PLC0415
    from khenthuong.storage.db import get_engine  # noqa: PLC0415

    if not file.is_file():
        raise typer.BadParameter(f"không có tệp {file}", param_hint="file")
    report = read_backup(file, get_engine(), Path(get_settings().state_dir))
    rows = sum(report.tables.values())
    console.print(
        f"Đã khôi phục {len(report.tables)} bảng, {rows:_} dòng".replace("_", ".")
        + f" từ {file}; kiểm tra bằng 'khenthuong audit verify'"
    )


def _warn_unknown_organisations(path: Path, engine: Engine) -> None:
    """Say which per-organisation overrides of the award catalog name no unit in the database.

    A warning, not an error: a deployment keeps the shipped overrides of organisations it
    does not hold (they simply never apply); a misspelt code is what this catches.
    """
    from sqlalchemy import select  # noqa: PLC0415

    from khenthuong.rules.catalog import load_catalog  # noqa: PLC0415
    from khenthuong.storage.models import UNITS  # noqa: PLC0415

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
                f"Cảnh báo: {problem} — ghi đè này không áp dụng cho đơn vị nào",
                err=True,
            )


@app.command()
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


@app.command("claim-basis")
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


@app.command()
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


@app.command("advance-batch")
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


@app.command()
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


@app.command()
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


@app.command()
@report_errors
def history(
    target: str = typer.Argument(..., help="Số hồ sơ, hoặc chữ `import`."),
    file: Path = typer.Argument(None, help="Với `import`: tệp .csv hoặc .xlsx."),
    fmt: FormatOption = OutputFormat.table,
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Khi nhập: nhập các dòng đúng, bỏ qua các dòng lỗi."
    ),
) -> None:
    """Diễn biến của một hồ sơ (`history SỐ`), hoặc nhập lịch sử đã có (`history import TỆP`).

    Nhập từ tệp .csv hoặc .xlsx các khen thưởng, xếp loại, sáng kiến đã có."""
    from khenthuong.audit.query import history as event_history  # noqa: PLC0415
    from khenthuong.services import nominations as svc  # noqa: PLC0415

    if target == "import":
        _history_import(file, skip_bad)
        return
    if not target.isdigit():
        raise typer.BadParameter(
            f"{target!r} không phải số hồ sơ hay 'import'", param_hint="target"
        )
    nomination_id = int(target)
    rt = runtime()
    with rt.engine.connect() as conn:
        svc.get_row(conn, nomination_id)
        events = event_history(conn, nomination_id)
    if fmt is not OutputFormat.table:
        emit(events, [("seq", "#"), ("occurred_at", "Thời điểm"), ("actor", "Người thực hiện"),
                      ("actor_role", "Vai trò"), ("trigger", "Bước"), ("from_state", "Từ"),
                      ("to_state", "Đến"), ("comment", "Ghi chú")], fmt)  # fmt: skip
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
    record: str = typer.Argument(
        ...,
        help="award (khen thưởng), rating (xếp loại), initiative (sáng kiến) hoặc blocker (kỷ luật).",
    ),
    person: str = typer.Option("", "--person", help="Họ và tên (thêm mới nếu đơn vị chưa có)."),
    unit: str = typer.Option(..., "--unit", help="Mã đơn vị của cá nhân (hoặc của tập thể)."),
    year: str = typer.Option("", "--year"),
    code: str = typer.Option(
        ...,
        "--code",
        help="award: mã hình thức khen thưởng; rating: htxs|htt|ht|kht; initiative: phạm vi "
        "grassroots|ministry|national; blocker: discipline|investigation|complaint.",
    ),
    decision_number: str = typer.Option("", "--decision-number"),
    decision_date: str = typer.Option(
        "",
        "--date",
        "--from",
        help="Ngày quyết định, ngày công nhận, hoặc ngày bắt đầu kỷ luật (YYYY-MM-DD).",
    ),
    ends_on: str = typer.Option(
        "", "--to", help="Ngày kết thúc kỷ luật (YYYY-MM-DD); để trống nếu còn hiệu lực."
    ),
    title: str = typer.Option("", "--title", "--note", help="Tên sáng kiến hoặc ghi chú kỷ luật."),
    commendation_type: str = typer.Option(
        "", "--type", help="Loại khen thưởng: cong_trang, dot_xuat, chuyen_de…"
    ),
    level: str = typer.Option(
        "",
        "--level",
        help="Hình thức kỷ luật: khien_trach, canh_cao, … hoặc tên tiếng Việt như 'Cảnh cáo'.",
    ),
) -> None:
    """Ghi một mục lịch sử: khen thưởng, xếp loại năm, sáng kiến hoặc kỷ luật."""
    from khenthuong.services.history_import import record_one  # noqa: PLC0415
    from khenthuong.settings import get_settings  # noqa: PLC0415
    from khenthuong.storage.db import get_engine, write_tx  # noqa: PLC0415

    row = {
        "record": record, "person": person, "unit": unit, "year": year, "code": code,
        "decision_number": decision_number, "decision_date": decision_date, "ends_on": ends_on,
        "title": title, "commendation_type": commendation_type, "level": level,
    }  # fmt: skip
    with write_tx(get_engine()) as conn:
        record_one(conn, row, catalog=_award_catalog(get_settings().config_dir))
    console.print(f"Đã ghi {record} cho {person or unit}")


def _history_import(file: Path | None, skip_bad: bool) -> None:
    from khenthuong.services.history_import import import_history  # noqa: PLC0415
    from khenthuong.storage.db import write_tx  # noqa: PLC0415

    if file is None:
        raise typer.BadParameter(
            "cần tệp để nhập: khenthuong history import TỆP", param_hint="file"
        )
    if not file.is_file():
        raise typer.BadParameter(f"không có tệp {str(file)!r}", param_hint="file")
    rt = runtime()
    catalog = _award_catalog(rt.settings.config_dir)
    with progress("Nhập lịch sử", None) as advance, write_tx(rt.engine) as conn:
        # import_history writes nothing when a row is bad and skip_bad is off.
        report = import_history(conn, file, catalog=catalog, skip_bad=skip_bad, progress=advance)
    print_capped([f"{file}:{line}: {message}" for line, message in report.errors])
    if report.errors and not skip_bad:
        typer.echo(
            f"Không nhập dòng nào: {len(report.errors)} dòng lỗi trên {report.rows} dòng; "
            "sửa các dòng trên hoặc dùng --skip-bad",
            err=True,
        )
        fail(ExitCode.REFUSED)
    console.print(
        f"Đã nhập {report.imported}/{report.rows} dòng, tạo {report.persons_created} cá nhân mới"
        + (f", bỏ qua {len(report.errors)} dòng lỗi" if report.errors else "")
    )


def _award_catalog(config_dir: Path) -> Catalog | None:
    """The award catalog (config/awards.yaml), when one is installed: history records are
    checked against its codes and the rules of their decision date."""
    from khenthuong.rules.catalog import load_catalog  # noqa: PLC0415

    path = config_dir / "awards.yaml"
    if not path.exists():
        return None
    return load_catalog(path)


@app.command()
@report_errors
def demo(
    again: bool = typer.Option(
        False, "--again", help="Chạy lại các hồ sơ mẫu (hồ sơ và quyết định mới) dù đã chạy trước."
    ),
) -> None:
    """Chạy thử quy trình với cán bộ mẫu; chạy lại không tạo trùng, không gửi thư lần nữa.

    Hồ sơ đến quyết định, Hội đồng, giao ước, kế hoạch kiểm tra chéo 2019, năm thi đua của Cục Cơ
    yếu Quân đội."""
    from khenthuong.cli.unit_year_demo import run_unit_year  # noqa: PLC0415
    from khenthuong.cli.walkthrough import (  # noqa: PLC0415
        demo_ran,
        leave_work_in_progress,
        run_council_walkthrough,
        run_covenant_walkthrough,
        run_inspection_walkthrough,
        run_walkthrough,
    )
    from khenthuong.embedded import tick  # noqa: PLC0415

    rt = runtime()
    if demo_ran(rt) and not again:
        console.print(
            "Dữ liệu mẫu đã có từ lần chạy trước: không tạo thêm, không gửi lại thư. "
            "Xem: khenthuong decisions list, khenthuong blocs list; chạy lại các hồ sơ mẫu: "
            "khenthuong demo --again"
        )
        return
    stages = (run_walkthrough, run_council_walkthrough, run_covenant_walkthrough,
              run_inspection_walkthrough, run_unit_year, leave_work_in_progress)  # fmt: skip
    with progress("Chạy thử", len(stages), on=console) as advance:
        for stage in stages:
            stage(rt, console)
            advance(1)
    if not rt.settings.broker_url:
        sent = tick(rt)
        console.print(
            f"Đã gửi {sent.notices_sent} thông báo, {sent.digests_sent} bản nhắc hạn "
            "(không có SMTP: thư nằm trong var/maildir/new)"
        )
        if sent.notices_no_recipient:
            console.print(
                f"[yellow]{sent.notices_no_recipient} thông báo không gửi được: không có địa chỉ "
                "người nhận (xem: khenthuong reminders status)[/]"
            )


def command() -> Any:
    """The `khenthuong` command as officers use it: readable help, the usage line and usage
    errors in Vietnamese (khenthuong.cli.usage_errors)."""
    return readable_help(typer.main.get_command(app))


def main() -> None:
    """Console-script entry point: the command tree with readable help, exit codes as in
    khenthuong.cli.common."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    command()(prog_name="khenthuong")
