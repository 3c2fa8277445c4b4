"""Preservation planning and action on the catalog's side: validation of stored AIPs and its
summary, the format register and risk, preservation plans and their runs."""
