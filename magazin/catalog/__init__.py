"""The catalog: an index of what storage holds, rebuildable from storage alone."""
