"""Vietnamese working-day calendar (public holidays, Tết, day swaps)."""
