"""The archivists' web pages."""
