"""Format identification (PRONOM PUIDs), later validation and text extraction."""
