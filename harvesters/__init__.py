"""Harvesters: one module per portal platform, gathering raw metadata and mapping it (see base.py)."""
