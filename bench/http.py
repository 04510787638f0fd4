"""Benchmark: the queue page and advance over HTTP on a database of 100,000 nominations.

Run:  .venv/bin/python bench/http.py [--rows N] [--requests R] [--clients C] [--no-pg]
      [--no-scans | --only-scans | --queue-only] [--workers 1,2] [--scan-requests R]
      [--scan-nice N] [--scan-modes M,...]

A real `khenthuong serve` process (uvicorn, one worker, no in-process jobs) serves a
database seeded with the demo organisations and N nominations spread over every shipped
workflow, state and demo unit; C client threads with keep-alive connections send R
requests per scenario and the script prints requests per second, p50 and p95 latency:

* GET /queue       the HTML "Việc của tôi" page of a ministry officer (session cookie);
* GET /api/queue   the same queue as JSON (bearer token);
* POST /api/nominations/{id}/advance   `submit` on R different Giấy khen nominations, each
  a real step: guards, optimistic version check, hash-chained event, one transaction;
* GET /health      baseline in the same run: the cheapest route of the same server
  (routing, one `select 1`), so the ratios show what the work itself costs.

Beside each scenario: the CPU the server used per request (user+sys of the server process
and its children, uvicorn workers included, over the scenario; the database server's own CPU
is not in it) and the CPU of this load generator per request (its four client threads). The
server's CPU per request is what load on a shared machine distorts least; p95 moves with it.

--queue-only measures only /health, /queue and /api/queue (no advance, no scans);
--workers 1,2 starts the server as `khenthuong serve --workers N` for each N in turn and
measures every scenario on each (the production deployment runs several processes).

Then (skip with --no-scans; --only-scans runs nothing else) the queue pages during and outside
reminder scans (issue 12), measured by bench/scan_windows.py: a second OS process (as
`khenthuong serve` runs its scheduler, at nice --scan-nice) calls the reminder job's
scan-and-claim (`reminder_claims.claim_reminders`) on the same database, in each of
--scan-modes (bench/scan_windows.py MODES): `before`, full scans back to back in one
statement (KHENTHUONG_FULL_SCAN_SECONDS=0, KHENTHUONG_SCAN_CHUNK=0: the old scan); `after`,
the same spread in chunks with pauses (the default chunk and duty); `pace`, `serve`'s clocks
12 times faster (a scan every 5 s, a full one every 75 s). Each mode's first scan (the first
claims the backlog) runs before its windows. GET /queue and GET /api/queue are measured in 8 rounds of one
window with the scanner paused and one with it scanning (--scan-requests each, order
alternating); ratio = p95 of the pooled during-scan latencies over p95 of the pooled outside
ones, with a 95% bootstrap interval over resampled rounds: PASS when it reaches 1.0 or below
and no request failed (failures are counted, not raised).

With --processes 1,2 (PostgreSQL only, nothing else runs): advance throughput of one server
with one process and one with two (`khenthuong serve --workers N`, uvicorn workers), both
started before measuring and measured in interleaved rounds (--rounds, median); the ratio
of two over one is PASS at x1.4 or more. The load comes from bench/lean_client.py (one
thread, raw sockets, C requests in flight, a new connection per request so that the kernel
spreads them over the workers; --keepalive keeps C connections; --client httpx: the httpx
threads above, which took half of a 2-core machine); every round prints the client's CPU,
the server's and each worker's, and failed requests, which do not count as throughput.

Prints figures only (no assertions); BENCHMARKS.md records a run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path[:] = [p for p in sys.path if Path(p).resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for bench.proc_cpu

import httpx  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402

from bench import lean_client as lean  # noqa: E402
from bench.http_setup import PG_URL, QUEUE_USER, prepare, session_cookies, start_server  # noqa: E402
from bench.proc_cpu import own_cpu, parent_of, tree_cpu, worker_pids  # noqa: E402
from khenthuong.storage.db import make_engine  # noqa: E402


def _scan_windows() -> Any:
    """bench/scan_windows.py (by path: this directory is off sys.path, http.py would shadow
    the standard library's `http`)."""
    spec = importlib.util.spec_from_file_location(
        "scan_windows", Path(__file__).with_name("scan_windows.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


SCAN_WINDOWS = _scan_windows()

Request = Callable[[httpx.Client, int], httpx.Response]


def measure(
    base: str, count: int, clients: int, request: Request, failed: list[str] | None = None,
    **kw: object,
) -> list[float]:  # fmt: skip
    """Send `count` requests from `clients` threads; latencies in seconds, checked 2xx/3xx.
    A failed request raises, unless `failed` is given: then it is listed there."""
    latencies: list[float] = []
    lock = threading.Lock()
    failures: list[str] = [] if failed is None else failed

    def worker(slot: int) -> None:
        with httpx.Client(base_url=base, timeout=60, **kw) as client:  # type: ignore[arg-type]
            for i in range(slot, count, clients):
                t0 = time.perf_counter()
                try:
                    response = request(client, i)
                except httpx.HTTPError as exc:
                    if failed is None:
                        raise
                    response = httpx.Response(599, text=f"{exc.__class__.__name__}: {exc}")
                elapsed = time.perf_counter() - t0
                if response.status_code >= 400:
                    with lock:
                        failures.append(f"{response.status_code}: {response.text[:200]}")
                with lock:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures and failed is None:
        raise RuntimeError(f"{len(failures)} failed requests, first: {failures[0]}")
    return latencies


def summary(latencies: list[float], wall: float) -> tuple[float, float, float]:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return len(ordered) / wall, statistics.median(ordered) * 1000, p95 * 1000


def run_backend(
    label: str, url: str, rows: int, count: int, clients: int, *, scans: bool, others: bool,
    scan_count: int, scan_nice: int, scan_modes: list[str], queue_only: bool = False,
    workers: tuple[int, ...] = (1,), client: str = "httpx",
) -> list[list[str]]:  # fmt: skip
    t0 = time.perf_counter()
    drafts, officer_token, queue_token = prepare(url, rows, 0 if queue_only else count)
    load_s = time.perf_counter() - t0
    home = Path(tempfile.mkdtemp(prefix="kt-bench-http-"))
    print(f"{label}: server logs in {home}", file=sys.stderr)
    out = [[f"{label}: seed {rows:,} nominations", f"{load_s:.1f} s", "", "", ""]]
    for n in workers:
        name = label if workers == (1,) else f"{label}, {n} worker{'s' if n > 1 else ''}"
        log = "server.log" if n == 1 else f"server-{n}.log"
        proc, base = start_server(url, home, n, log)
        try:
            out += _measure_server(
                name, url, home, proc.pid, base, drafts, officer_token, queue_token, count,
                clients, scans=scans and n == workers[0], others=others, queue_only=queue_only,
                scan_count=scan_count, scan_nice=scan_nice, scan_modes=scan_modes, client=client,
                server_workers=n,
            )  # fmt: skip
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    return out


def _measure_server(
    label: str, url: str, home: Path, pid: int, base: str, drafts: list[int],
    officer_token: str, queue_token: str, count: int, clients: int, *, scans: bool,
    others: bool, queue_only: bool, scan_count: int, scan_nice: int, scan_modes: list[str],
    client: str = "httpx", server_workers: int = 1,
) -> list[list[str]]:  # fmt: skip
    cookies = session_cookies(base)
    bearer = {"Authorization": f"Bearer {queue_token}"}
    officer = {"Authorization": f"Bearer {officer_token}"}
    with httpx.Client(base_url=base, headers=bearer) as probe:
        queued = len(probe.get("/api/queue", params={"limit": 100}).json()["items"])
    scenarios: list[tuple[str, Request, dict[str, Any]]] = [
        ("GET /health (baseline)", lambda c, i: c.get("/health"), {}),
        ("GET /queue (HTML, session)", lambda c, i: c.get("/queue"), {"cookies": cookies}),
        ("GET /api/queue (JSON, token)", lambda c, i: c.get("/api/queue"), {"headers": bearer}),
        (
            "POST /api/nominations/{id}/advance",
            lambda c, i: c.post(
                f"/api/nominations/{drafts[i]}/advance",
                json={"trigger": "submit", "expected_version": 1},
            ),
            {"headers": officer},
        ),
    ]
    if queue_only:
        scenarios = scenarios[:3]
    out = [[f"{label}: {QUEUE_USER}'s queue", f"{queued} items shown", "", "", ""]]
    base_rps = 0.0
    for name, request, kw in scenarios if others else []:
        warm = 0 if "advance" in name else min(20, count)
        if warm:
            measure(base, warm, clients, request, **kw)
        lean_get = (
            _lean_get(base, name, cookies, bearer, clients, keepalive=server_workers == 1)
            if client == "lean"
            else None
        )
        if lean_get is not None:
            # The same GET from the lean client (bench/lean_client.py): one thread, `clients`
            # kept-alive connections, so the client takes little of the cores it shares.
            server0 = tree_cpu(pid)
            result = lean_get(count)
            if result.failures:
                raise RuntimeError(f"{name}: {len(result.failures)} failed: {result.failures[0]}")
            latencies, wall = result.latencies, result.wall
            client_ms = result.cpu / count * 1000
        else:
            server0, client0 = tree_cpu(pid), own_cpu()
            t1 = time.perf_counter()
            latencies = measure(base, count, clients, request, **kw)
            wall = time.perf_counter() - t1
            client_ms = (own_cpu() - client0) / count * 1000
        server_ms = (tree_cpu(pid) - server0) / count * 1000
        rps, p50, p95 = summary(latencies, wall)
        if not base_rps:
            base_rps = rps
        target = next((t for prefix, t in P95_TARGETS.items() if name.startswith(prefix)), None)
        verdict = (
            ""
            if target is None
            else f"  p95 < {target:.0f} ms: {'PASS' if p95 < target else 'MISS'}"
        )
        out.append(
            [f"{label}: {name}", f"{rps:,.0f} req/s", f"p50 {p50:.1f} ms", f"p95 {p95:.1f} ms",
             f"{rps / base_rps:.2f}x baseline{verdict}",
             f"server CPU {server_ms:.2f} ms/req", f"client CPU {client_ms:.2f} ms/req"]
        )  # fmt: skip
    if scans and not queue_only:
        pages = scenarios[1:3]
        for _, request, kw in pages:
            measure(base, min(20, scan_count), clients, request, **kw)
        for mode in scan_modes:
            out += SCAN_WINDOWS.scan_scenario(
                label, url, home, base, pages, scan_count, clients, scan_nice, measure,
                SCAN_WINDOWS.MODES[mode],
            )  # fmt: skip
            print(f"{label}: scans '{mode}' done, load {os.getloadavg()[0]:.2f}", file=sys.stderr)
    return out


def _lean_get(
    base: str, name: str, cookies: httpx.Cookies, bearer: dict[str, str], clients: int = 4,
    keepalive: bool = True,
) -> Callable[[int], lean.Result] | None:  # fmt: skip
    """For a GET scenario named `name`: a function sending it `n` times from the lean client,
    `clients` at a time (None for the advance, which stays on httpx). With several uvicorn
    workers, a connection a request (`keepalive=False`): the workers share one socket and a
    kept-alive connection stays with the worker that accepted it, so four kept-alive
    connections could all land on one worker (seen once: the two-worker figure was a
    one-worker figure)."""
    address = ("127.0.0.1", int(base.rsplit(":", 1)[1]))
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    found = {
        "GET /health (baseline)": ("/health", {}),
        "GET /queue (HTML, session)": ("/queue", cookie),
        "GET /api/queue (JSON, token)": ("/api/queue", bearer),
    }.get(name)
    if found is None:
        return None
    request = lean.request_bytes("GET", address, found[0], found[1], keepalive=keepalive)
    return lambda n: lean.run(address, [request] * n, clients, keepalive=keepalive)


P95_TARGETS = {"GET /queue": 50.0, "GET /api/queue": 30.0}
"""p95 targets with four clients at 100,000 nominations (issue 19, item 1)."""

PROCESS_TARGET = 1.4
"""Advance throughput of two server processes over one, on 2 cores (issue 19)."""


ADVANCE = {"trigger": "submit", "expected_version": 1}
"""The body of every advance the benchmarks post (`submit` from the draft, version 1)."""


def run_processes(
    url: str, rows: int, count: int, clients: int, processes: list[int], rounds: int,
    keepalive: bool = False, client: str = "lean",
) -> list[list[str]]:  # fmt: skip
    """Advance throughput of `serve --workers N` for each N, on one database: one server per
    N, all started before measuring; rounds interleaved (1, 2, 1, 2 …) so that a change of
    load on the machine hits every N alike; the median of the rounds is reported. The load
    comes from bench/lean_client.py (`client="httpx"`: the httpx threads of `measure`), a new
    connection per request unless `keepalive`; beside each round, the CPU of the client, of
    the server, of each uvicorn worker (a skew shows), of the PostgreSQL server when it runs
    here, and of the whole machine (what other users' jobs take)."""
    t0 = time.perf_counter()
    drafts, officer_token, _ = prepare(url, rows, count * rounds * len(processes))
    load_s = time.perf_counter() - t0
    home = Path(tempfile.mkdtemp(prefix="kt-bench-http-"))
    print(f"processes: server logs in {home}", file=sys.stderr)
    servers = {n: start_server(url, home, n, f"server-{n}.log") for n in processes}
    officer = {"Authorization": f"Bearer {officer_token}", "Content-Type": "application/json"}
    if client == "httpx" and not keepalive:
        officer["Connection"] = "close"
    body = json.dumps(ADVANCE, separators=(",", ":")).encode()  # as httpx sends `json=`
    figures: dict[str, dict[int, list[lean.Round]]] = {"advance": {}, "health": {}}
    try:
        for _, base in servers.values():  # warm every worker's pool and caches
            _round(base, None, 8 * clients, clients, officer, body, keepalive, client)
        pids = {n: worker_pids(proc.pid, n) for n, (proc, _) in servers.items()}
        postgres = parent_of(f" {url.rsplit('/', 1)[1]} ")  # the parent of its backends
        used = 0
        for i in range(rounds):
            for n in processes:
                paths = [f"/api/nominations/{d}/advance" for d in drafts[used : used + count]]
                used += count
                proc, base = servers[n]
                # Baseline in the same round: the cheapest route (routing, `select 1`).
                for kind, todo in (("advance", paths), ("health", None)):
                    run = partial(
                        _round, base, todo, count, clients, officer, body, keepalive, client
                    )
                    done = lean.Round.of(proc.pid, pids[n], postgres, run)
                    figures[kind].setdefault(n, []).append(done)
                    print(f"round {i + 1}, {_procs(n)}, {kind}: {done}", flush=True)
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=60)
    out = [[f"PostgreSQL: seed {rows:,} nominations", f"{load_s:.1f} s", "", "", ""]]
    for kind, label in (("advance", "advance"), ("health", "GET /health (baseline)")):
        one = statistics.median(r.result.rps for r in figures[kind][processes[0]])
        for n in processes:
            ratio = statistics.median(r.result.rps for r in figures[kind][n]) / one
            verdict = ""
            if kind == "advance" and n == 2 and processes[0] == 1:
                verdict = "PASS" if ratio >= PROCESS_TARGET else "MISS"
            out.append(
                lean.row(f"PostgreSQL: {label}, {_procs(n)}", figures[kind][n], ratio, verdict)
            )
    return out


def _round(
    base: str, paths: list[str] | None, count: int, clients: int, officer: dict[str, str],
    body: bytes, keepalive: bool, client: str,
) -> lean.Result:  # fmt: skip
    """An advance on each of `paths`, or `count` GET /health when None."""
    if client == "lean":
        address = ("127.0.0.1", int(base.rsplit(":", 1)[1]))
        if paths is None:
            todo = [lean.request_bytes("GET", address, "/health", keepalive=keepalive)] * count
        else:
            todo = [
                lean.request_bytes("POST", address, p, officer, body, keepalive=keepalive)
                for p in paths
            ]
        return lean.run(address, todo, clients, keepalive=keepalive)
    failed: list[str] = []
    close = {k: v for k, v in officer.items() if k == "Connection"}
    cpu0, t0 = own_cpu(), time.perf_counter()
    if paths is None:
        latencies = measure(
            base, count, clients, lambda c, i: c.get("/health"), failed, headers=close
        )
    else:
        latencies = measure(
            base, len(paths), clients, lambda c, i: c.post(paths[i], json=ADVANCE), failed,
            headers=officer,
        )  # fmt: skip
    wall, cpu = time.perf_counter() - t0, own_cpu() - cpu0
    # measure() keeps the failed requests' latencies too: a failure is not throughput.
    return lean.Result(latencies[: len(latencies) - len(failed)], failed, wall, cpu)


def _procs(n: int) -> str:
    return f"{n} server process{'es' if n > 1 else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400, help="per scenario")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--no-scans", action="store_true", help="skip pages during scans")
    parser.add_argument("--only-scans", action="store_true", help="only pages during scans")
    parser.add_argument(
        "--queue-only", action="store_true", help="only /health, /queue and /api/queue"
    )
    parser.add_argument(
        "--workers",
        default="1",
        help="e.g. 1,2: measure with `serve --workers N` for each N (scans with the first)",
    )
    parser.add_argument(
        "--scan-requests", type=int, default=200, help="per page and window, during/outside scans"
    )
    parser.add_argument(
        "--scan-nice",
        type=int,
        default=10,
        help="the scanner's niceness (default 10, as serve: KHENTHUONG_SCHEDULER_NICE)",
    )
    parser.add_argument(
        "--scan-modes",
        default="before,after,pace",
        help="scanner modes, in order (bench/scan_windows.py MODES): before = full scans back "
        "to back in one statement, after = chunked full scans back to back (default chunk and "
        "duty), pace = serve's clocks x12 (a scan every 5 s, a full one every 75 s)",
    )
    parser.add_argument(
        "--processes",
        help="e.g. 1,2: only advance throughput on PostgreSQL with `serve --workers N`",
    )
    parser.add_argument("--rounds", type=int, default=3, help="with --processes (median)")
    parser.add_argument(
        "--keepalive",
        action="store_true",
        help="with --processes: C kept-alive connections (default: a new one per request)",
    )
    parser.add_argument("--no-keepalive", action="store_true", help=argparse.SUPPRESS)  # default
    parser.add_argument(
        "--client",
        choices=("lean", "httpx"),
        default="lean",
        help="bench/lean_client.py (one thread, raw sockets) or C httpx threads: the advances "
        "of --processes, and the GETs of the page scenarios (pages during scans stay on httpx)",
    )
    args = parser.parse_args()
    if args.processes:
        counts = [int(n) for n in args.processes.split(",") if n]
        table = on_pg_database(
            lambda url: run_processes(
                url,
                args.rows,
                args.requests,
                args.clients,
                counts,
                args.rounds,
                keepalive=args.keepalive,
                client=args.client,
            )
        )
        in_flight = "client threads" if args.client == "httpx" else "requests in flight (lean)"
        print_table(
            f"{args.clients} {in_flight}, {args.requests} advances per server and round, "
            f"median of {args.rounds} interleaved rounds; target x{PROCESS_TARGET} for 2; "
            + ("kept-alive connections" if args.keepalive else "a new connection per request"),
            table,
        )
        return
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    opts = {
        "scans": not args.no_scans,
        "others": not args.only_scans,
        "scan_count": args.scan_requests,
        "scan_nice": args.scan_nice,
        "queue_only": args.queue_only,
        "workers": tuple(int(n) for n in args.workers.split(",") if n),
        "scan_modes": [m for m in args.scan_modes.split(",") if m],
        "client": args.client,
    }
    results: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        results += run_backend("SQLite", url, args.rows, args.requests, args.clients, **opts)
    if not args.no_pg:
        results += on_pg_database(
            lambda url: run_backend(
                "PostgreSQL", url, args.rows, args.requests, args.clients, **opts
            )
        )
    who = (
        "client threads (httpx)"
        if args.client == "httpx"
        else "kept-alive connections of the lean client (GETs; the advance on httpx threads)"
    )
    print_table(
        f"{args.clients} {who}, {args.requests} requests per scenario, one server "
        f"(`serve --workers {args.workers}`)",
        results,
    )
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


def on_pg_database(work: Callable[[str], list[list[str]]]) -> list[list[str]]:
    """`work(url)` on a PostgreSQL database of its own (dropped after); [] when PostgreSQL
    does not answer (the reason is printed)."""
    name = f"khenthuong_bench_{uuid.uuid4().hex[:8]}"
    admin: Engine = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL skipped: {exc.__class__.__name__}: {exc}")
        return []
    try:
        return work(PG_URL.rsplit("/", 1)[0] + f"/{name}")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def print_table(title: str, results: list[list[str]]) -> None:
    print(f"\n{title}")
    width = max((len(r[0]) for r in results), default=0)
    for row in results:
        print(f"{row[0]:<{width}}  " + "  ".join(f"{c:>16}" for c in row[1:]))


if __name__ == "__main__":
    main()
