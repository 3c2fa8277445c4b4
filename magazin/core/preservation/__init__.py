"""Preservation planning: the format register and its risks, preservation plans."""
