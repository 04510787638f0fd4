"""Celery application, beat schedule and thin tasks (the worker edge of khenthuong)."""
