"""Which member leads a bloc in a given year (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def leader_for_year(
    rotation: Sequence[str], recorded: Mapping[int, str], start_year: int, year: int
) -> str:
    """The leader in `year`: the recorded one, else the rotation continued from the
    nearest recorded year before it (or from `start_year` at rotation[0])."""
    if not rotation:
        raise ValueError("a bloc needs at least one member in its rotation")
    if year in recorded:
        return recorded[year]
    earlier = [y for y in recorded if y < year and recorded[y] in rotation]
    if earlier:
        anchor = max(earlier)
        start = rotation.index(recorded[anchor])
    else:
        anchor, start = start_year, 0
    return rotation[(start + (year - anchor)) % len(rotation)]
