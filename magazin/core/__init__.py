"""The preservation engine: SIP readers, AIP builder, OCFL storage. Imports no Django."""
