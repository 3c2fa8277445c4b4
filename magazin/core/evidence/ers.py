"""RFC 4998 evidence records: the ASN.1 structures, and the hash trees whose roots are
time-stamped.

A tree's leaves are the hashes of data objects (here: AIP versions' `vN/inventory.json` and
the journal's head entry). Leaves are paired, a lone last leaf joining the pair before it as a
group of three, so that the first partial hash tree of every record holds the object's hash
and at least one other - the one place where RFC 4998 and RFC 6283 readers (Bouncy Castle
among them) could read a single-value list differently. Above the leaves, nodes are paired
and a lone last node is carried up unchanged (no list for that level). A node's hash is the
hash of its children's hashes concatenated in binary ascending order."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from asn1crypto import algos, cms, core


class PartialHashtree(core.SequenceOf):
    _child_spec = core.OctetString


class ReducedHashtree(core.SequenceOf):
    _child_spec = PartialHashtree


class ArchiveTimeStamp(core.Sequence):
    _fields = [
        ("digest_algorithm", algos.DigestAlgorithm, {"implicit": 0, "optional": True}),
        ("attributes", cms.CMSAttributes, {"implicit": 1, "optional": True}),
        ("reduced_hashtree", ReducedHashtree, {"implicit": 2, "optional": True}),
        ("time_stamp", cms.ContentInfo),
    ]


class ArchiveTimeStampChain(core.SequenceOf):
    _child_spec = ArchiveTimeStamp


class ArchiveTimeStampSequence(core.SequenceOf):
    _child_spec = ArchiveTimeStampChain


class DigestAlgorithms(core.SequenceOf):
    _child_spec = algos.DigestAlgorithm


class CryptoInfos(core.SequenceOf):
    _child_spec = core.Any


class EncryptionInfo(core.Sequence):
    _fields = [("encryption_info_type", core.ObjectIdentifier),
               ("encryption_info_value", core.Any)]  # fmt: skip


class EvidenceRecord(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("digest_algorithms", DigestAlgorithms),
        ("crypto_infos", CryptoInfos, {"implicit": 0, "optional": True}),
        ("encryption_info", EncryptionInfo, {"implicit": 1, "optional": True}),
        ("archive_time_stamp_sequence", ArchiveTimeStampSequence),
    ]


def digest(name: str, data: bytes) -> bytes:
    return hashlib.new(name, data).digest()


def node(name: str, values: list[bytes]) -> bytes:
    """The hash of values concatenated in binary ascending order."""
    return digest(name, b"".join(sorted(values)))


@dataclass
class Tree:
    """A hash tree over `leaves`: its root and each leaf's reduced hash tree."""

    hash: str
    leaves: list[bytes]
    root: bytes
    reduced: list[list[list[bytes]]]  # per leaf: its partial hash trees


def build(hash_name: str, leaves: list[bytes], bundles: list[int] | None = None) -> Tree:
    """The tree over `leaves`. With `bundles` (the size of each run of leaves that must share
    the first list - a chain's earlier time-stamps, renewed together), level-0 groups are
    made of whole bundles, each group of at least two values."""
    if not leaves:
        raise ValueError("a hash tree needs at least one leaf")
    n = len(leaves)
    reduced: list[list[list[bytes]]] = [[] for _ in range(n)]
    if n == 1:
        return Tree(hash_name, leaves, leaves[0], reduced)
    groups = _groups(n, bundles or [1] * n)
    nodes: list[bytes] = []
    where: list[int] = [0] * n  # each leaf's node index at the current level
    for g, members in enumerate(groups):
        values = [leaves[i] for i in members]
        nodes.append(node(hash_name, values))
        for i in members:
            reduced[i].append(values)
            where[i] = g
    while len(nodes) > 1:
        upper = [node(hash_name, nodes[i : i + 2]) if i + 1 < len(nodes) else nodes[i]
                 for i in range(0, len(nodes), 2)]  # fmt: skip
        for leaf in range(n):
            k = where[leaf]
            sibling = k + 1 if k % 2 == 0 else k - 1
            if sibling < len(nodes):
                reduced[leaf].append([nodes[sibling]])
            where[leaf] = k // 2
        nodes = upper
    return Tree(hash_name, leaves, nodes[0], reduced)


def _groups(n: int, bundles: list[int]) -> list[list[int]]:
    """Level-0 groups of leaf indices: whole bundles, at least two values each (a lone
    single value joins the group before it). Single leaves go in pairs."""
    if sum(bundles) != n:
        raise ValueError("the bundles do not add up to the leaves")
    groups: list[list[int]] = []
    start = 0
    current: list[int] = []
    for size in bundles:
        current += range(start, start + size)
        start += size
        if len(current) >= 2:
            groups.append(current)
            current = []
    if current:
        if groups:
            groups[-1] += current
        else:
            groups.append(current)
    return groups


def root_of(hash_name: str, leaf: bytes, reduced: list[list[bytes]]) -> bytes:
    """The root a reduced hash tree leads to from `leaf` (RFC 4998, 4.3); ValueError where
    the leaf is not in its first list."""
    if not reduced:
        return leaf
    if leaf not in reduced[0]:
        raise ValueError("the object's hash is not in the first partial hash tree")
    h = node(hash_name, list(reduced[0]))
    for partial in reduced[1:]:
        h = node(hash_name, [h, *partial])
    return h


def archive_time_stamp(hash_name: str, reduced: list[list[bytes]], token: bytes) -> dict:
    """An ArchiveTimeStamp's fields (for ArchiveTimeStamp(...))."""
    out: dict = {"digest_algorithm": {"algorithm": hash_name},
                 "time_stamp": cms.ContentInfo.load(token)}  # fmt: skip
    if reduced:
        out["reduced_hashtree"] = [[bytes(v) for v in p] for p in reduced]
    return out


def evidence_record(chains: list[list[ArchiveTimeStamp]], hash_names: list[str]) -> bytes:
    """The DER EvidenceRecord (version 1) of these chains."""
    seen = list(dict.fromkeys(hash_names))
    return EvidenceRecord({
        "version": 1,
        "digest_algorithms": [{"algorithm": h} for h in seen],
        "archive_time_stamp_sequence": [list(chain) for chain in chains],
    }).dump()  # fmt: skip
