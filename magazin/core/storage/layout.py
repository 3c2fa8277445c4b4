"""OCFL storage layout extension 0003-hash-and-id-n-tuple-storage-layout.

The object id stays readable at the end of each object's path, e.g.
`a1b/2c3/d4e/urn%3amagazin%3astadt%3a01J…`: an operator can find an AIP by its ULID.
"""

from __future__ import annotations

import hashlib

EXTENSION = "0003-hash-and-id-n-tuple-storage-layout"
CONFIG = {
    "extensionName": EXTENSION,
    "digestAlgorithm": "sha256",
    "tupleSize": 3,
    "numberOfTuples": 3,
}
_SAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def encode_id(object_id: str) -> str:
    """Percent-encode every byte outside [A-Za-z0-9-_], lower-case hex, as the extension says."""
    out = []
    for b in object_id.encode("utf-8"):
        c = chr(b)
        out.append(c if c in _SAFE else f"%{b:02x}")
    return "".join(out)


def object_path(
    object_id: str, tuple_size: int = 3, number_of_tuples: int = 3, max_id_length: int = 100
) -> str:
    """The object's path relative to the storage root."""
    digest = hashlib.sha256(object_id.encode("utf-8")).hexdigest()
    tuples = [digest[i * tuple_size : (i + 1) * tuple_size] for i in range(number_of_tuples)]
    encoded = encode_id(object_id)
    if len(encoded) > max_id_length:
        encoded = encoded[:max_id_length] + "-" + digest
    return "/".join([*tuples, encoded])
