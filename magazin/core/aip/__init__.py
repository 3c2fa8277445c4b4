"""AIP metadata: Dublin Core, METS and PREMIS writers and readers."""
