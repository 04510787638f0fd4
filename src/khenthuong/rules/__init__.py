"""Domain rules (eligibility, votes, quotas, dossiers) exposed as named guards."""
