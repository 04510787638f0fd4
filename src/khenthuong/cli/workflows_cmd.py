"""`khenthuong workflows ...`: check, list, show and migrate definitions."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from khenthuong.cli.common import (
    FormatOption,
    OutputFormat,
    actor_for,
    console,
    emit,
    err_console,
    progress,
    report_errors,
    runtime,
)
from khenthuong.errors import InvalidDefinition, KhenthuongError, Problem
from khenthuong.roles import roles_in
from khenthuong.services.definitions import migrate_nominations
from khenthuong.settings import get_settings
from khenthuong.storage.db import write_tx
from khenthuong.workflow.diagram import to_dot, to_mermaid
from khenthuong.workflow.loader import WorkflowRegistry, parse_workflow, workflow_files

app = typer.Typer(help="Quy trình khen thưởng.", no_args_is_help=True)


@app.command("check")
def check(
    paths: list[Path] = typer.Argument(
        None, help="Tệp hoặc thư mục (mặc định: thư mục quy trình)."
    ),
) -> None:
    """Kiểm tra tệp quy trình; mỗi lỗi in một dòng TỆP:DÒNG: lỗi, mã thoát 1 nếu có lỗi."""
    settings = get_settings()
    roles = roles_in(settings.config_dir)
    files = workflow_files(paths or [settings.workflows_dir])
    if not files:
        err_console.print("no workflow files found")
        raise typer.Exit(1)
    problems: list[Problem] = []
    registry = WorkflowRegistry()
    summary = Table(
        "workflow", "version", "states", "transitions", "file", title="Quy trình hợp lệ"
    )
    for file in files:
        try:
            wf = parse_workflow(file, known_roles=roles)
            registry.add(wf, str(file))
            summary.add_row(
                wf.name, str(wf.version), str(len(wf.states)), str(len(wf.transitions)), str(file)
            )
        except InvalidDefinition as exc:
            problems.extend(exc.problems)
    if problems:
        for problem in problems:
            typer.echo(str(problem), err=True)
        typer.echo(f"{len(problems)} problem(s) in {len(files)} file(s)", err=True)
        raise typer.Exit(1)
    console.print(summary)
    console.print(f"{len(files)} file(s) OK")


@app.command("list")
@report_errors
def list_(fmt: FormatOption = OutputFormat.table) -> None:
    """Mọi phiên bản quy trình có trong cơ sở dữ liệu."""
    rt = runtime()
    rows = [
        {"name": i.definition.name, "version": i.definition.version,
         "title": i.definition.title.vi, "title_en": i.definition.title.en, "source": i.source}
        for i in rt.registry.all()
    ]  # fmt: skip
    emit(
        rows,
        [("title", "Tên"), ("name", "Mã"), ("version", "Phiên bản"), ("source", "Tệp")],
        fmt,
    )


@app.command("show")
@report_errors
def show(
    name: str,
    version: int = typer.Option(None, "--version", "-v", help="Phiên bản (mặc định: mới nhất)."),
    fmt: str = typer.Option(
        "text", "--format", "-f", help="text (bảng), json, mermaid hoặc dot (sơ đồ)"
    ),
    lang: str = typer.Option("vi", "--lang", help="Ngôn ngữ: vi hoặc en."),
) -> None:
    """Xem một quy trình: bảng các bước hoặc sơ đồ Mermaid/DOT."""
    settings = get_settings()
    from khenthuong.workflow.loader import load_registry  # noqa: PLC0415

    registry = load_registry([settings.workflows_dir], known_roles=roles_in(settings.config_dir))
    wf = registry.get(name, version).definition
    if fmt == "json":
        typer.echo(json.dumps(wf.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    if fmt == "mermaid":
        typer.echo(to_mermaid(wf, lang=lang), nl=False)
        return
    if fmt == "dot":
        typer.echo(to_dot(wf, lang=lang), nl=False)
        return
    if fmt != "text":
        raise typer.BadParameter("dùng text, json, mermaid hoặc dot", param_hint="--format")
    console.print(f"[bold]{wf.title.vi}[/] ({wf.title.en}) — {wf.name} v{wf.version}")
    console.print("Căn cứ: " + "; ".join(wf.legal_basis))
    states = Table("state", "tên", "kind", "level", "role", "deadline", "minimum")
    for sname, st in wf.states.items():
        deadline = f"{st.deadline.working_days} ngày làm việc" if st.deadline else ""
        minimum = f"{st.minimum.working_days} ngày làm việc" if st.minimum else ""
        states.add_row(
            sname, st.title.vi, st.kind.value, st.level or "", st.role or "", deadline, minimum
        )
    console.print(states)
    steps = Table("trigger", "from", "to", "roles", "requires", "guards")
    for t in wf.transitions:
        steps.add_row(
            t.trigger,
            ", ".join(t.source),
            t.dest,
            ", ".join(t.roles),
            ", ".join(t.requires),
            ", ".join(t.guards),
        )
    console.print(steps)


@app.command("migrate")
@report_errors
def migrate(
    name: str,
    from_version: int = typer.Option(..., "--from"),
    to_version: int = typer.Option(..., "--to"),
    mapping: list[str] = typer.Option(
        [], "--map", help="TRẠNG-THÁI-CŨ=TRẠNG-THÁI-MỚI; lặp lại được."
    ),
    as_user: str = typer.Option(..., "--as", help="Tên đăng nhập của quản trị viên."),
    comment: str = typer.Option(None, "--comment"),
) -> None:
    """Chuyển hồ sơ đang mở từ phiên bản này sang phiên bản khác của quy trình (có nhật ký)."""
    rt = runtime()
    state_map: dict[str, str] = {}
    for item in mapping:
        old, sep, new = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r} không có dạng CŨ=MỚI", param_hint="--map")
        state_map[old.strip()] = new.strip()
    with actor_for(rt, as_user) as actor:
        if not actor.has_role("admin"):
            raise KhenthuongError(
                f"{as_user} không phải quản trị hệ thống; chỉ quản trị được chuyển phiên bản quy trình"
            )
        with progress("Chuyển phiên bản", None), write_tx(rt.engine) as conn:
            result = migrate_nominations(
                conn, rt.registry, name, from_version, to_version, state_map, actor, comment=comment
            )
    console.print(
        f"Đã chuyển {result.moved} hồ sơ đang mở từ phiên bản {from_version} sang {to_version}"
    )
    for state, count in sorted(result.by_state.items()):
        console.print(f"  {state}: {count}")
