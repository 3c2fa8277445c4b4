"""Magazin: an OAIS digital archive for public archives (OCFL storage, METS/PREMIS, xdomea)."""

__version__ = "0.1.0"
