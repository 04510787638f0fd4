"""Exact shares (tỷ lệ) for council rules: quorum and vote thresholds as fractions.

A rule of "two thirds" stored as 0.6667 refuses 2 of 3 members and 10 of 15; compared as
the fraction 2/3 it admits them. Shares are read from a fraction ("2/3"), a decimal (0.9,
read exactly as 9/10) or a percentage ("90%"), and compared by cross-multiplication.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated

from pydantic import PlainSerializer, PlainValidator

from khenthuong.formats import percent

HALF = Fraction(1, 2)


def parse_share(value: object) -> Fraction:
    """A share in (0, 1] from "2/3", 0.9, "0.9", "90%" or a Fraction; ValueError otherwise."""
    if isinstance(value, Fraction):
        share = value
    elif isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("a share is a fraction like 2/3, a decimal like 0.9 or 90%")
    else:
        text = str(value).replace(" ", "").replace("\u00a0", "")  # "90 %" as percent() writes it
        try:
            share = Fraction(text[:-1]) / 100 if text.endswith("%") else Fraction(text)
        except (ValueError, ZeroDivisionError):
            raise ValueError(
                f"{value!r} is not a share: write a fraction like 2/3, a decimal like 0.9 or 90%"
            ) from None
    if not 0 < share <= 1:
        raise ValueError(f"a share must be more than 0 and at most 1, not {value!r}")
    return share


def share_text(share: Fraction, lang: str = "vi") -> str:
    """'90 %' ('90%' in English) when the share is a whole percentage, else the fraction
    ('2/3')."""
    if (share * 100).denominator == 1:
        return percent(share, lang, 0)
    return f"{share.numerator}/{share.denominator}"


def reaches(part: int, whole: int, share: Fraction) -> bool:
    """part / whole >= share, exactly (False when whole is 0)."""
    return whole > 0 and part * share.denominator >= share.numerator * whole


Share = Annotated[
    Fraction,
    PlainValidator(parse_share),
    PlainSerializer(lambda s: f"{s.numerator}/{s.denominator}", return_type=str),
]
"""A pydantic field type for an exact share; serialised as "n/d"."""
