"""docker-compose.yml stays consistent with the code it runs (no Docker engine needed)."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess

import yaml
from typer.main import get_command

from khenthuong.cli.app import app
from khenthuong.settings import PROJECT_ROOT
from tests.service_guard import absent


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


def test_web_tier_runs_replicas_behind_one_port() -> None:
    """Several `web` replicas of several processes, no host port of their own; the proxy
    publishes the one port and its Caddyfile sends to the `web` service on the port the
    replicas serve; the web processes trust X-Forwarded-For from the proxy's address only,
    which Docker never hands to another container."""
    services = compose()
    web, proxy = services["web"], services["proxy"]
    command = web["command"]
    assert isinstance(command, list) and command[:2] == ["khenthuong", "serve"]
    port = command[command.index("--port") + 1]
    assert int(command[command.index("--workers") + 1]) >= 2
    assert "ports" not in web and web["expose"] == [port]
    assert web["deploy"]["replicas"] >= 2  # type: ignore[index]
    assert proxy["ports"] == [f"{port}:{port}"]
    caddyfile = (PROJECT_ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    assert "name {$KHENTHUONG_WEB_HOST:web}" in caddyfile and f"port {port}" in caddyfile
    assert f":{port} {{" in caddyfile
    mount = "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro"
    assert proxy["volumes"] == [mount]
    address = proxy["networks"]["default"]["ipv4_address"]  # type: ignore[index]
    env = web["environment"]
    assert isinstance(env, dict) and env["KHENTHUONG_TRUSTED_PROXIES"] == address
    network = ipaddress.ip_network(address.rsplit(".", 1)[0] + ".0/24")
    pool = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    (ipam,) = pool["networks"]["default"]["ipam"]["config"]
    assert ipaddress.ip_network(ipam["subnet"]) == network
    assert ipaddress.ip_address(address) in network
    assert ipaddress.ip_address(address) not in ipaddress.ip_network(ipam["ip_range"])


def test_workers_scale_and_beat_stays_single() -> None:
    """Several workers, exactly one beat; every app container shares the state folder
    (audit key, checkpoints) and Redis for the web processes' shared state."""
    services = compose()
    assert services["worker"]["deploy"]["replicas"] >= 2  # type: ignore[index]
    assert services["beat"]["deploy"]["replicas"] == 1  # type: ignore[index]
    for name in ("migrate", "web", "worker", "beat"):
        assert services[name]["volumes"] == ["app-state:/app/var"], name
        env = services[name]["environment"]
        assert isinstance(env, dict)
        assert env["KHENTHUONG_REDIS_URL"].startswith("redis://redis:6379/")
        assert env["KHENTHUONG_BROKER_URL"] != env["KHENTHUONG_REDIS_URL"]


def test_the_caddyfile_is_valid() -> None:
    """Caddy itself accepts deploy/Caddyfile (Debian's caddy, installed by scripts/install)."""
    caddy = shutil.which("caddy")
    if caddy is None:
        absent("caddy not installed: cannot validate deploy/Caddyfile")
    done = subprocess.run(
        [caddy, "validate", "--config", str(PROJECT_ROOT / "deploy" / "Caddyfile"),
         "--adapter", "caddyfile"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Valid configuration" in done.stdout + done.stderr
