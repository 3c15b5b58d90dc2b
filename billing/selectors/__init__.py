"""Reads: every non-trivial query the admin, views and tasks need."""
