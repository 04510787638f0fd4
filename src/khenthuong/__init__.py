"""khenthuong: the workflow engine for Vietnamese award nominations (thi đua, khen thưởng)."""

__version__ = "0.1.0"
