"""Archival storage: OCFL objects in storage roots held by storage locations."""
