"""The HTTP interface: JSON API under /api, the officers' web UI, health and status."""
