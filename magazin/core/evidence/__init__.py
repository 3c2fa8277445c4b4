"""Proof of integrity: the hash-chained archive journal, RFC 3161 time-stamps and RFC 4998
evidence records."""
