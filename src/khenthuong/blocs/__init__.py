"""Emulation blocs: leaders, covenants, reviews and cross-inspection plans."""
