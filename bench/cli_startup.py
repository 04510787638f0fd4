"""Start-up time of the `khenthuong` command: `--help` and `reminders status`.

Each command runs `--runs` times from this checkout's sources and from a baseline's
(`--baseline-src`, e.g. main's src/ before the lazy sub-commands), interleaved so both see
the same load; prints the medians, their ratio and the load average at start and end.
The machine is shared: absolute times are inflated by the other jobs, the ratio less so.

    PYTHONPATH=src python bench/cli_startup.py --baseline-src /path/to/old/src --db /tmp/x.db
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
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
    print(f"load average at start: {os.getloadavg()}")
    for args in COMMANDS:
        times: dict[str, list[float]] = {"baseline": [], "this": []}
        for _ in range(opts.runs):
            times["baseline"].append(_run(opts.baseline_src, args, env))
            times["this"].append(_run(HERE, args, env))
        base, this = (statistics.median(times[k]) for k in ("baseline", "this"))
        print(
            f"khenthuong {' '.join(args)}: baseline median {base:.2f} s, this {this:.2f} s, "
            f"ratio {this / base:.2f} (runs: baseline "
            + ", ".join(f"{t:.2f}" for t in times["baseline"])
            + "; this "
            + ", ".join(f"{t:.2f}" for t in times["this"])
            + ")"
        )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
