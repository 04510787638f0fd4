"""Page latency outside and during reminder scans, measured in interleaved windows
(`bench/http.py --only-scans`, issue 12), and the scanner process it drives.

Loaded by bench/http.py; run as a script (`scan_windows.py URL NICENESS`) it is the scanner:
full reminder scans back to back while told to run, paused between scans when told to.

Why this method (BENCHMARKS.md #12): the first version measured three windows outside scans,
then three during, and called the spread of the three outside p95s the noise band. A p95 of
200 requests rests on its 10 slowest; three of them give a band that is itself mostly noise
(it came out x1.01 in one run and x2.38 in another), and every during window came after
every outside one, on a machine whose other load drifts. Here: the windows alternate in
rounds, the latencies of each condition are pooled (SCAN_ROUNDS x count requests each), and
the band is a bootstrap interval of the ratio over resampled rounds.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path[:] = [p for p in sys.path if Path(p).resolve() != Path(__file__).resolve().parent]

from khenthuong.runtime import open_runtime  # noqa: E402
from khenthuong.services import reminder_claims  # noqa: E402
from khenthuong.settings import Settings  # noqa: E402

SCAN_ROUNDS = 8
"""Rounds of one window outside and one during scans per page, interleaved (see scan_scenario)."""
BOOTSTRAP = 2000
"""Resamples of the rounds for the confidence interval of the p95 ratio."""


@dataclass(frozen=True)
class ScanMode:
    """How the scanner process scans: KHENTHUONG_SCAN_CHUNK (None: the default) and
    KHENTHUONG_SCAN_DUTY (None: the default), KHENTHUONG_FULL_SCAN_SECONDS, and the pace
    (`every` seconds from one scan's start to the next; 0: back to back)."""

    label: str
    chunk: int | None
    duty: float | None
    full_scan_seconds: int
    every: float

    def args(self) -> list[str]:
        return [str(self.chunk), str(self.duty), str(self.full_scan_seconds), str(self.every)]

    @classmethod
    def parse(cls, args: list[str]) -> ScanMode:
        chunk, duty, full, every = args
        return cls(
            "", None if chunk == "None" else int(chunk), None if duty == "None" else float(duty),
            int(full), float(every),
        )  # fmt: skip


MODES = {
    "before": ScanMode(
        "full scans back to back, one statement (chunk 0, duty 1.0: the old scan)", 0, 1.0, 0, 0
    ),
    "after": ScanMode(
        "full scans back to back, chunked (default chunk and duty)", None, None, 0, 0
    ),
    "pace": ScanMode(
        "serve's pace x12 (a scan every 5 s, a full one every 75 s; defaults)", None, None, 75, 5
    ),
}
"""The scanner's modes `bench/http.py --scan-modes` picks from. `pace` is `serve` with its
clocks 12 times faster (it scans every 60 s and fully every 900 s): mostly incremental scans,
with a full scan now and then inside the measured windows."""


def scan_loop(url: str, niceness: int, mode: ScanMode) -> None:
    """The scanner process: reminder scans (`claim_reminders`, the reminder job's own call)
    while told to run ("run" on stdin; "pause" stops after the current scan and answers
    "idle"; end of stdin ends it), back to back or one every `mode.every` seconds, one line
    per scan ("scan <wall s> <claimed> <process CPU s> <full 0/1>"); `niceness` lowers its CPU
    priority as `serve` lowers its scheduler's (KHENTHUONG_SCHEDULER_NICE)."""
    from sqlalchemy import select

    from khenthuong.services.scan_state import STATE_JOB
    from khenthuong.storage.outbox import JOB_RUNS

    if niceness:
        os.nice(niceness)
    stop, run = threading.Event(), threading.Event()
    paused = threading.Event()

    def commands() -> None:
        for line in sys.stdin:
            if line.strip() == "run":
                paused.clear()
                run.set()
            else:
                run.clear()
                paused.set()
        stop.set()
        paused.set()
        run.set()

    threading.Thread(target=commands, daemon=True).start()
    update: dict[str, Any] = {"full_scan_seconds": mode.full_scan_seconds}
    if mode.chunk is not None:
        update["scan_chunk"] = mode.chunk
    if mode.duty is not None:
        update["scan_duty"] = mode.duty
    rt = open_runtime(Settings(database_url=url, **update))

    def last_full() -> Any:
        with rt.engine.connect() as conn:
            return conn.execute(
                select(JOB_RUNS.c.last_run_at).where(JOB_RUNS.c.job == STATE_JOB)
            ).scalar()

    print("ready", flush=True)
    while not stop.is_set():
        if not run.is_set():
            print("idle", flush=True)
            run.wait()
            continue
        before = last_full()
        t0, c0 = time.perf_counter(), time.process_time()
        groups = reminder_claims.claim_reminders(rt.engine, rt.registry, rt.settings)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        full = int(last_full() != before)
        claimed = sum(len(g) for g in groups)
        print(f"scan {wall:.3f} {claimed} {cpu:.3f} {full}", flush=True)
        if mode.every:
            paused.wait(max(0.0, mode.every - (time.perf_counter() - t0)))


class Scanner:
    """The scanner process, told to run or to pause between scans; the scans it reported."""

    def __init__(self, url: str, home: Path, niceness: int, mode: ScanMode) -> None:
        env = {
            **os.environ,
            "KHENTHUONG_DATABASE_URL": url,
            "KHENTHUONG_STATE_DIR": str(home / "var"),
            "KHENTHUONG_MAILDIR": str(home / "maildir"),
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        }
        self.proc = subprocess.Popen(
            [sys.executable, __file__, url, str(niceness), *mode.args()],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.scans: list[float] = []
        self.cpu: list[float] = []
        self.full: list[int] = []
        if self._next() != "ready" or self._next() != "idle":
            self.proc.kill()
            raise RuntimeError("the scanner process did not start")

    def _next(self) -> str:
        assert self.proc.stdout is not None
        while line := self.proc.stdout.readline():
            if not line.startswith("scan "):
                return line.strip()
            self._note(line)
        raise RuntimeError(f"the scanner process ended: {self.proc.wait()}")

    def _note(self, line: str) -> None:
        _, wall, _, cpu, full = line.split()
        self.scans.append(float(wall))
        self.cpu.append(float(cpu))
        self.full.append(int(full))

    def _tell(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def run(self) -> None:
        self._tell("run")

    def pause(self) -> None:
        """Pause and wait until the scan under way has finished."""
        self._tell("pause")
        if self._next() != "idle":
            raise RuntimeError("the scanner did not pause")

    def first_scan(self) -> float:
        """Run one scan to its end (the first claims the backlog) and pause; its seconds."""
        done = len(self.scans)
        self.run()
        assert self.proc.stdout is not None
        while len(self.scans) == done:
            line = self.proc.stdout.readline()
            if line.startswith("scan "):
                self._note(line)
        self.pause()
        return self.scans[done]

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=600)


def p95(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def ratio_ci(outside: list[list[float]], during: list[list[float]]) -> tuple[float, float]:
    """95% bootstrap interval of p95(during) / p95(outside), resampling whole rounds (a
    window's latencies are not independent of each other; the two windows of a round share
    the machine's load of that minute, so a round is resampled as a pair)."""
    rng = random.Random(12)
    rounds = range(len(outside))
    ratios = []
    for _ in range(BOOTSTRAP):
        picked = [rng.choice(rounds) for _ in rounds]
        ratios.append(
            p95([x for i in picked for x in during[i]])
            / p95([x for i in picked for x in outside[i]])
        )
    ratios.sort()
    return ratios[int(0.025 * BOOTSTRAP)], ratios[int(0.975 * BOOTSTRAP) - 1]


def scan_scenario(
    label: str, url: str, home: Path, base: str, pages: list[tuple[str, Any, dict[str, Any]]],
    count: int, clients: int, niceness: int, measure: Callable[..., list[float]],
    mode: ScanMode = MODES["before"],
) -> list[list[str]]:  # fmt: skip
    """Page latency outside and during reminder scans (`mode`), in interleaved windows.

    The scanner's first scan (claiming the backlog) runs before the windows and is reported
    apart. Then SCAN_ROUNDS rounds, each with, for every page, one window of `count` requests
    with the scanner paused and one with it scanning, in alternating order (outside first in
    even rounds), so the machine's drifting load falls on both alike. Ratio: p95 of all
    during-scan latencies over p95 of all outside ones; its 95% bootstrap interval (rounds
    resampled) is the noise band. PASS when the interval reaches 1.0 or below (no difference
    beyond noise) and no request failed. A/A: the p95 of the outside windows of even rounds
    over that of odd rounds, what noise alone gives."""
    scanner = Scanner(url, home, niceness, mode)
    label = f"{label} [{mode.label}]"
    windows: dict[str, dict[str, list[list[float]]]] = {
        name: {"outside": [], "during": []} for name, _, _ in pages
    }
    failed: dict[str, list[str]] = {name: [] for name, _, _ in pages}
    during_s = 0.0
    try:
        first = scanner.first_scan()
        before = len(scanner.scans)
        for r in range(SCAN_ROUNDS):
            for name, request, kw in pages:
                for where in ("outside", "during") if r % 2 == 0 else ("during", "outside"):
                    if where == "during":
                        scanner.run()
                    t0 = time.perf_counter()
                    latencies = measure(base, count, clients, request, failed[name], **kw)
                    if where == "during":
                        during_s += time.perf_counter() - t0
                        scanner.pause()
                    windows[name][where].append(latencies)
    finally:
        scanner.stop()
    out = []
    for name, _, _ in pages:
        outside, during = windows[name]["outside"], windows[name]["during"]
        ref = p95([x for w in outside for x in w]) * 1000
        mid = p95([x for w in during for x in w]) * 1000
        low, high = ratio_ci(outside, during)
        aa = p95([x for w in outside[0::2] for x in w]) / p95([x for w in outside[1::2] for x in w])
        verdict = "PASS" if low <= 1.0 and not failed[name] else "MISS"
        out.append(
            [f"{label}: {name} p95 outside / during scans", f"{ref:.1f} / {mid:.1f} ms",
             f"ratio x{mid / ref:.3f}", f"95% CI x{low:.3f}-x{high:.3f} (A/A x{aa:.3f})", verdict]
        )  # fmt: skip
        if failed[name]:
            out.append(
                [f"{label}: {name} FAILED", f"{len(failed[name])} of {2 * SCAN_ROUNDS * count}",
                 failed[name][0][:60], "", ""]
            )  # fmt: skip
    scans, cpu, full = scanner.scans[before:], scanner.cpu[before:], scanner.full[before:]
    out.append(
        [f"{label}: first scan (before the windows)", f"{first:.1f} s",
         f"{SCAN_ROUNDS} rounds x {len(pages)} pages x 2 windows of {count} requests", "", ""]
    )  # fmt: skip
    fulls = [s for s, f in zip(scans, full, strict=True) if f]
    fulls_cpu = [c for c, f in zip(cpu, full, strict=True) if f]
    parts = [s for s, f in zip(scans, full, strict=True) if not f]
    parts_cpu = [c for c, f in zip(cpu, full, strict=True) if not f]
    out.append(
        [f"{label}: scans during the {during_s:.0f} s scanned",
         f"{len(fulls)} full, {len(parts)} other",
         f"full: median {statistics.median(fulls):.2f} s wall" if fulls else "",
         f"{statistics.median(fulls_cpu):.2f} s scanner CPU" if fulls_cpu else "",
         f"other: median {statistics.median(parts) * 1000:.0f} ms wall, "
         f"{statistics.median(parts_cpu) * 1000:.0f} ms CPU" if parts else ""]
    )  # fmt: skip
    return out


if __name__ == "__main__":
    scan_loop(sys.argv[1], int(sys.argv[2]), ScanMode.parse(sys.argv[3:]))
