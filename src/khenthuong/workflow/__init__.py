"""Workflow definitions (pure data and checks) and the state-machine engine."""
