"""Ingest jobs and quarantine (the database side of the ingest pipeline)."""
