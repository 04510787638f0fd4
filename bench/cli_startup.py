"""Start-up time of the `khenthuong` command: `--help` and `reminders status`.

Each command runs `--runs` times from this checkout's sources and from a baseline's
(`--baseline-src`, e.g. main's src/ before the lazy sub-commands), interleaved so both see
the same load; prints the medians, their ratio and the load average at start and end.
The machine is shared: absolute times are inflated by the other jobs, the ratio less so.
Two modes: byte code cached as an installation has it (`PYTHONPYCACHEPREFIX`, a temporary
folder, not the checkouts; one warm-up run of each before timing), and compiled every run
(`PYTHONDONTWRITEBYTECODE=1`, as this machine's shells and the earlier figures had it: every
module of the package is compiled again at each start).

    PYTHONPATH=src python bench/cli_startup.py --baseline-src /path/to/old/src --db /tmp/x.db
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "src"
COMMANDS = (["--help"], ["reminders", "status"])


def _run(src: Path, args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "from khenthuong.cli.app import main; main()", *args],
        env={**env, "PYTHONPATH": str(src)},
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline-src", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True, help="a SQLite file (made if absent)")
    parser.add_argument("--runs", type=int, default=5)
    opts = parser.parse_args()
    env = {**os.environ, "KHENTHUONG_DATABASE_URL": f"sqlite:///{opts.db}"}
    env["KHENTHUONG_STATE_DIR"] = str(opts.db.parent / "state")
    if not opts.db.exists():
        _run(HERE, ["init", "--demo"], env)
    cached = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="cli_startup_pyc_")
    uncached = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    uncached.pop("PYTHONPYCACHEPREFIX", None)
    for args in COMMANDS:  # warm-up: byte code written for both trees
        _run(opts.baseline_src, args, cached)
        _run(HERE, args, cached)
    print(f"load average at start: {os.getloadavg()}")
    for mode, mode_env in (("byte code cached", cached), ("compiled every run", uncached)):
        for args in COMMANDS:
            times: dict[str, list[float]] = {"baseline": [], "this": []}
            for _ in range(opts.runs):
                times["baseline"].append(_run(opts.baseline_src, args, mode_env))
                times["this"].append(_run(HERE, args, mode_env))
            base, this = (statistics.median(times[k]) for k in ("baseline", "this"))
            print(
                f"[{mode}] khenthuong {' '.join(args)}: baseline median {base:.2f} s, "
                f"this {this:.2f} s, ratio {this / base:.2f} (runs: baseline "
                + ", ".join(f"{t:.2f}" for t in times["baseline"])
                + "; this "
                + ", ".join(f"{t:.2f}" for t in times["this"])
                + f"); load {os.getloadavg()[0]:.2f}"
            )
    print(f"load average at end: {os.getloadavg()}")
    shutil.rmtree(cached["PYTHONPYCACHEPREFIX"], ignore_errors=True)


if __name__ == "__main__":
    main()
