"""Award money (tiền thưởng): coefficient × base salary, rounded up to 10,000 VND (ND 98)."""

from __future__ import annotations

import math
from decimal import Decimal

ROUNDING_VND = 10_000


def award_money(
    coefficient: float,
    base_salary_vnd: int,
    *,
    multiplier: float = 1.0,
    rounding_vnd: int = ROUNDING_VND,
) -> int:
    """The amount in VND; `multiplier` is 2 for collective orders, 1.5 for households."""
    exact = Decimal(str(coefficient)) * Decimal(base_salary_vnd) * Decimal(str(multiplier))
    return math.ceil(exact / rounding_vnd) * rounding_vnd
