"""A lean HTTP/1.1 load client for `bench/http.py --processes`: it should measure the servers,
not itself.

The httpx client threads used before took almost half of a 2-core machine (2.03 s of client
CPU beside 2.27 s of server CPU for 1,600 `/health` requests), so a second server process had
no core to run on. Here the requests are bytes built before the clock starts, sent over plain
blocking sockets from one thread; `selectors` waits on the C requests in flight and a response
is read by its Content-Length. No HTTP library, no thread switches, no per-request objects
beyond a socket and a buffer.

By default every request opens its own connection (`Connection: close`): uvicorn's workers
share one listening socket, a kept-alive connection stays with the worker that accepted it,
and a new connection goes to whichever worker accepts first, so the load spreads over the
workers as a proxy's round robin would. `keepalive=True` keeps C connections open instead.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bench.proc_cpu import machine_cpu, process_cpu, tree_cpu


def request_bytes(
    method: str,
    address: tuple[str, int],
    path: str,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    *,
    keepalive: bool = False,
) -> bytes:
    """One complete HTTP/1.1 request, ready to send."""
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {address[0]}:{address[1]}",
        "Accept: */*",
        "User-Agent: khenthuong-bench",
        f"Connection: {'keep-alive' if keepalive else 'close'}",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    if body or method not in ("GET", "HEAD"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Result:
    """One run: latencies of the requests that got the expected status, the failures (status
    and the start of the body, or the error), wall time and this process's CPU over the run."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    wall: float = 0.0
    cpu: float = 0.0

    @property
    def rps(self) -> float:
        """Successful requests a second: a failed one does not count as throughput."""
        return len(self.latencies) / self.wall if self.wall else 0.0

    @property
    def p95(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] if ordered else 0.0


@dataclass
class Round:
    """One scenario of one round against one server: what the client saw and its CPU, the
    server's CPU (all its processes), each uvicorn worker's CPU, the PostgreSQL server's CPU
    and the CPU of every process on the machine, other users' included (seconds)."""

    result: Result
    server: float
    split: list[float]
    machine: float
    database: float

    @classmethod
    def of(
        cls, server: int, workers: list[int], postgres: int | None, run: Callable[[], Result]
    ) -> Round:
        """`run()` against the server of pid `server` whose workers are `workers`; `postgres`:
        the pid of the PostgreSQL server when it runs on this machine (its whole CPU counts,
        every database's: on a quiet machine, what the requests cost it)."""
        split0 = [process_cpu(p) for p in workers]
        server0, machine0 = tree_cpu(server), machine_cpu()
        pg0 = tree_cpu(postgres, reaped=True) if postgres else 0.0
        result = run()
        machine = machine_cpu() - machine0
        pg = tree_cpu(postgres, reaped=True) - pg0 if postgres else float("nan")
        split = [process_cpu(p) - c for p, c in zip(workers, split0, strict=True)]
        return cls(result, tree_cpu(server) - server0, split, machine, pg)

    def shares(self) -> str:
        """Each worker's share of the CPU the workers used, e.g. `27/73%`: a skew shows."""
        total = sum(self.split) or 1.0
        return "/".join(f"{c / total * 100:.0f}" for c in self.split) + "%"

    def __str__(self) -> str:
        r, n = self.result, max(1, len(self.result.latencies))
        failed = f", {len(r.failures)} failed (first: {r.failures[0]})" if r.failures else ""
        return (
            f"{r.rps:.0f} req/s, p95 {r.p95 * 1000:.1f} ms{failed}; client CPU "
            f"{r.cpu / n * 1000:.3f} ms/req ({r.cpu / r.wall:.0%} of a core), server CPU "
            f"{self.server / n * 1000:.2f} ms/req ({self.server / r.wall:.0%}), PostgreSQL "
            f"{self.database / n * 1000:.2f} ms/req, workers "
            + " / ".join(f"{c:.2f}" for c in self.split)
            + f" s ({self.shares()}); machine busy {self.machine / r.wall:.2f} cores"
        )


def row(label: str, runs: list[Round], ratio: float, verdict: str = "") -> list[str]:
    """A table row of the rounds of one scenario against one server: median throughput and
    p95, each round's throughput, `ratio` (to the first server) and its verdict, then the CPU
    of the client, of the server and of PostgreSQL a request, each round's split
    of the workers' CPU, the machine's busy cores (every process's) and the failures, over all
    rounds."""
    ok = max(1, sum(len(r.result.latencies) for r in runs))
    wall = sum(r.result.wall for r in runs) or 1.0
    return [
        label,
        f"{statistics.median(r.result.rps for r in runs):,.0f} req/s",
        f"p95 {statistics.median(r.result.p95 for r in runs) * 1000:.1f} ms",
        " / ".join(f"{r.result.rps:.0f}" for r in runs) + " req/s",
        f"x{ratio:.2f} {verdict}".strip(),
        f"client CPU {sum(r.result.cpu for r in runs) / ok * 1000:.3f} ms/req",
        f"server CPU {sum(r.server for r in runs) / ok * 1000:.2f} ms/req",
        f"PostgreSQL CPU {sum(r.database for r in runs) / ok * 1000:.2f} ms/req",
        ("workers " + " · ".join(r.shares() for r in runs)) if len(runs[0].split) > 1 else "",
        f"machine {sum(r.machine for r in runs) / wall:.2f} cores",
        f"{sum(len(r.result.failures) for r in runs)} failed",
    ]


class _Exchange:
    """One request in flight on one connection."""

    __slots__ = ("body_at", "buf", "closing", "length", "sock", "started", "status")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reset()

    def reset(self) -> None:
        self.buf = bytearray()
        self.body_at = -1  # offset of the body once the head is read
        self.length = -1  # Content-Length; -1: until the server closes
        self.status = 0
        self.closing = False  # the server said `Connection: close`
        self.started = time.perf_counter()

    def head(self) -> bool:
        """Parse the status line and Content-Length once the head is complete."""
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        status_line, *header_lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        self.status = int(status_line.split(" ", 2)[1])
        for line in header_lines:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                self.length = int(value)
            elif name == "connection":
                self.closing = value.strip().lower() == "close"
        self.body_at = end + 4
        return True

    def complete(self) -> bool:
        return self.length >= 0 and len(self.buf) - self.body_at >= self.length


def run(
    address: tuple[str, int],
    requests: Sequence[bytes],
    concurrency: int,
    *,
    expect: int = 200,
    keepalive: bool = False,
    timeout: float = 60.0,
) -> Result:
    """Send every request, `concurrency` at a time, from this thread; see Result."""
    result = Result()
    selector = selectors.DefaultSelector()
    todo = iter(requests)
    cpu0, t0 = _cpu(), time.perf_counter()

    def send(exchange: _Exchange | None) -> None:
        """The next request on `exchange`'s connection (kept alive), or on a new one; a
        request that cannot be sent is a failure and the one after it is tried."""
        while (request := next(todo, None)) is not None:
            try:
                if exchange is None:
                    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    exchange = _Exchange(sock)
                    sock.connect(address)  # loopback: the kernel completes it at once
                    sock.sendall(request)
                    selector.register(sock, selectors.EVENT_READ, exchange)
                else:
                    exchange.reset()
                    exchange.sock.sendall(request)
                return
            except OSError as exc:
                result.failures.append(f"{exc.__class__.__name__}: {exc}")
                if exchange is not None:
                    _drop(selector, exchange)
                exchange = None
        if exchange is not None:
            _drop(selector, exchange)

    for _ in range(concurrency):
        send(None)
    while selector.get_map():
        ready = selector.select(timeout)
        if not ready:
            for key in list(selector.get_map().values()):
                result.failures.append(f"no response in {timeout:g} s")
                _drop(selector, key.data)
            break
        for key, _ in ready:
            exchange: _Exchange = key.data
            error = ""
            try:
                data = exchange.sock.recv(65536)
            except OSError as exc:
                data, error = b"", f"{exc.__class__.__name__}: {exc}"
            if data:
                exchange.buf += data
                if exchange.body_at < 0 and not exchange.head():
                    continue
                if not exchange.complete():
                    continue
            elif not error and exchange.body_at >= 0 and exchange.length < 0:
                exchange.length = len(exchange.buf) - exchange.body_at  # the body ends at close
            if not exchange.complete():
                result.failures.append(error or "connection closed before the response ended")
                _drop(selector, exchange)
                send(None)
                continue
            if exchange.status == expect:
                result.latencies.append(time.perf_counter() - exchange.started)
            else:
                body = bytes(exchange.buf[exchange.body_at :][:200]).decode("utf-8", "replace")
                result.failures.append(f"{exchange.status}: {body}")
            if keepalive and data and not exchange.closing:
                send(exchange)
            else:
                _drop(selector, exchange)
                send(None)
    result.wall = time.perf_counter() - t0
    result.cpu = _cpu() - cpu0
    selector.close()
    return result


def _drop(selector: selectors.BaseSelector, exchange: _Exchange) -> None:
    with contextlib.suppress(KeyError, ValueError):  # not registered (yet)
        selector.unregister(exchange.sock)
    exchange.sock.close()


def _cpu() -> float:
    """User+sys CPU seconds of this process (all its threads: the client is the only busy one;
    nanoseconds, where os.times() counts 10 ms ticks)."""
    return time.process_time()
