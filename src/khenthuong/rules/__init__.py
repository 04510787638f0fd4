"""Domain rules (eligibility, votes, quotas, dossiers) exposed as named guards."""

from khenthuong.rules import guards

__all__ = ["guards"]
