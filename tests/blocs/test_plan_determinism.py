"""The same seed gives the same plan in every process, whatever the string hash seed."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
from datetime import date
from khenthuong.blocs.inspection_plan import generate_plan

for size in (4, 9, 13, 40):
    members = [f"DV{i:02d}" for i in range(size)]
    plans = []
    for year in range(2019, 2023):
        plans.append(
            generate_plan(
                "KCY4", year, members, period_start=date(year, 10, 1),
                period_end=date(year, 11, 30), history=plans, seed=2019,
            )
        )
    for plan in plans:
        print(size, plan.year, sorted(plan.early_resets), plan.as_rows())
"""


def _plans_with_hash_seed(hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_same_seed_same_plan_across_hash_seeds() -> None:
    """Plans made in processes with different PYTHONHASHSEED values are identical."""
    outputs = {seed: _plans_with_hash_seed(seed) for seed in ("0", "1", "2", "3")}
    assert outputs["0"].count("\n") == 16
    assert len(set(outputs.values())) == 1, outputs
