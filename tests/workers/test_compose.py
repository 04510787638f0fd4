"""docker-compose.yml stays consistent with the code it runs (no Docker engine needed)."""

from __future__ import annotations

import yaml
from typer.main import get_command

from khenthuong.cli.app import app
from khenthuong.settings import PROJECT_ROOT


def compose() -> dict[str, dict[str, object]]:
    data = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return dict(data["services"])


def test_compose_has_every_service_users_need() -> None:
    """PostgreSQL, Redis, migrate, web, worker, beat, Mailpit and Flower are all there."""
    assert set(compose()) >= {
        "db",
        "redis",
        "migrate",
        "web",
        "worker",
        "beat",
        "mailpit",
        "flower",
    }


def test_khenthuong_commands_in_compose_exist() -> None:
    """Every `khenthuong ...` command that compose runs is a real CLI command."""
    cli = get_command(app)
    names = set(cli.commands)  # type: ignore[attr-defined]
    for name, service in compose().items():
        command = service.get("command")
        if isinstance(command, list) and command and command[0] == "khenthuong":
            assert command[1] in names, f"service {name} runs unknown command {command[1]!r}"


def test_celery_beat_schedule_names_registered_tasks() -> None:
    """The beat schedule only names tasks the worker registers."""
    from workers.celery_app import app as celery_app
    from workers.tasks import task_names

    scheduled = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert scheduled <= set(task_names())
    for service in ("worker", "beat", "flower"):
        command = compose()[service]["command"]
        assert isinstance(command, list)
        assert command[:3] == ["celery", "-A", "workers.celery_app"]


def test_compose_runs_no_demo_and_ships_no_secret_by_default() -> None:
    """Production by default: `migrate` creates an empty system, the demo is behind the
    `demo` profile, and the secret key has no default (compose refuses to run without it)."""
    services = compose()
    assert services["migrate"]["command"] == ["khenthuong", "init"]
    assert services["demo-seed"]["command"] == ["khenthuong", "init", "--demo"]
    assert services["demo-seed"]["profiles"] == ["demo"]
    env = services["web"]["environment"]
    assert isinstance(env, dict)
    assert str(env["KHENTHUONG_SECRET_KEY"]).startswith("${KHENTHUONG_SECRET_KEY:?")
    assert env["KHENTHUONG_ENV"] == "${KHENTHUONG_ENV:-production}"
