"""A tenant's evidence: each run time-stamps one hash tree and keeps the tree and the RFC 3161
token in the tenant's evidence object `urn:magazin:<tenant>:evidence`, one version per run:
`runs/<n>.json` (kind, hash, the leaves in order, the token's time) and `runs/<n>.tsr` (the
token, DER).

- An *initial* run's leaves are the journal's head entry and every AIP version journaled
  since the run before (the hash of its `vN/inventory.json`). Its token begins a chain.
- A *timestamp renewal* (RFC 4998, 5.2) re-time-stamps chains whose last token's certificate
  expires soon or whose signature algorithm weakens: the leaves of a chain are the hashes of
  all its time-stamps so far (they share the first list of the new reduced hash tree, so that
  readers checking every earlier time-stamp against the last - Bouncy Castle does - find
  them). The renewed tokens' certificate chains and their CAs' revocation lists (where the
  certificates name any) are kept first (`validation/<n>.pem`).
- A *hash renewal* (RFC 4998, 5.3) begins a new chain for every AIP version with a stronger
  hash: its leaf is H(H(inventory) + H(the record's chains so far, DER)).

Each AIP version's RFC 4998 evidence record is assembled (DER) from what is kept: per chain,
the first time-stamp with the version's reduced hash tree, then the chain's renewals.

Nothing is put into the AIP: its new version would need an evidence record of its own."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..atomic import write_atomically
from ..ids import evidence_id, now
from ..storage.ocfl import NewFile, OcflError, VersionInfo
from . import ers, tsp
from .journal import canonical

RUN = re.compile(r"^runs/(\d{6})\.json$")


class EvidenceError(Exception):
    """Evidence cannot be made or found (the message says why)."""


@dataclass
class Run:
    number: int
    kind: str  # initial | timestamp renewal | hash renewal
    hash: str
    time: str
    leaves: list[dict]  # {"journal": seq} or {"object", "version"}, each with "digest" (hex)
    token: bytes
    extra: dict = field(default_factory=dict)

    def tree(self) -> ers.Tree:
        leaves = [bytes.fromhex(leaf["digest"]) for leaf in self.leaves]
        if self.kind != "timestamp renewal":
            return ers.build(self.hash, leaves)
        bundles: list[int] = []  # the leaves of one chain lie together
        for i, leaf in enumerate(self.leaves):
            if i and leaf["chain"] == self.leaves[i - 1]["chain"]:
                bundles[-1] += 1
            else:
                bundles.append(1)
        return ers.build(self.hash, leaves, bundles)

    @property
    def journal_seq(self) -> int:
        return max((leaf["journal"] for leaf in self.leaves if "journal" in leaf), default=0)


class Evidence:
    """One tenant's evidence object (see the module docstring)."""

    def __init__(self, storage, tenant: str, policy):
        self.storage = storage
        self.tenant = tenant
        self.policy = policy
        self.object_id = evidence_id(tenant)

    def authority(self) -> tsp.Authority | None:
        p = self.policy
        if not p.tsa_url:
            return None
        return tsp.Authority(p.tsa_url, tsp.load_certificates(p.tsa_certificate), p.tsa_user,
                             p.password(), p.tsa_client_cert, p.tsa_client_key)  # fmt: skip

    def _object(self):
        try:
            return self.storage.open(self.tenant, self.object_id)
        except OcflError:
            return None

    @staticmethod
    def _found(obj, newer_than: int = 0) -> list[tuple[int, str, str]]:
        """(run number, version, path) of the runs in versions after `newer_than`."""
        found = []
        for vname, v in obj.inventory["versions"].items():
            if int(vname[1:]) <= newer_than:
                continue
            for paths in v["state"].values():
                for p in paths:
                    if m := RUN.match(p):
                        found.append((int(m.group(1)), vname, p))
        return sorted(found)

    @staticmethod
    def _read(obj, number: int, vname: str) -> Run:
        d = json.loads(obj.read(f"runs/{number:06d}.json", vname))
        token = obj.read(f"runs/{number:06d}.tsr", vname)
        return Run(number, d["kind"], d["hash"], d["time"], d["leaves"], token,
                   {k: v for k, v in d.items()
                    if k not in ("kind", "hash", "time", "leaves")})  # fmt: skip

    def runs(self) -> Iterator[Run]:
        """Every run, read from storage."""
        obj = self._object()
        if obj is None:
            return
        for number, vname, _p in self._found(obj):
            yield self._read(obj, number, vname)

    def index(self) -> dict:
        """Which runs hold what, so that a record reads only its own runs: kept in
        MAGAZIN_HOME/evidence/<tenant>/runs.json, brought up to date from the versions added
        since (a lost file is read again from storage). Every check still reads the runs
        themselves from storage."""
        empty = {"head": "v0", "runs": {}, "leaves": {}, "chains": {}}
        obj = self._object()
        if obj is None:
            return empty
        path = self.storage.home.path / "evidence" / self.tenant / "runs.json"
        try:
            index = json.loads(path.read_text("utf-8"))
            if int(index["head"][1:]) > int(obj.head[1:]):
                index = empty  # another object (a restored archive): read again
        except (OSError, ValueError, KeyError):
            index = empty
        if index["head"] == obj.head:
            return index
        for number, vname, _p in self._found(obj, int(index["head"][1:])):
            run = self._read(obj, number, vname)
            index["runs"][str(number)] = {"version": vname, "kind": run.kind, "time": run.time,
                                          "journal": run.journal_seq}  # fmt: skip
            for leaf in run.leaves:
                if "object" in leaf:
                    key = f"{leaf['object']} {leaf['version']}"
                    index["leaves"].setdefault(key, []).append(number)
                elif "chain" in leaf:
                    chain = index["chains"].setdefault(str(leaf["chain"]), [])
                    if number not in chain:
                        chain.append(number)
        index["head"] = obj.head
        write_atomically(path, json.dumps(index).encode())
        return index

    def runs_of(self, object_id: str, version: str) -> list[Run]:
        """The runs an object version's record is made of (its chains' time-stamps)."""
        index = self.index()
        starts = index["leaves"].get(f"{object_id} {version}", [])
        numbers = sorted({n for s in starts for n in [s, *index["chains"].get(str(s), [])]})
        if not numbers:
            return []
        obj = self._object()
        return [self._read(obj, n, index["runs"][str(n)]["version"]) for n in numbers]

    def last_run(self) -> dict | None:
        runs = self.index()["runs"]
        return runs[max(runs, key=int)] if runs else None

    def due(self, hours: int, at: dt.datetime | None = None) -> bool:
        """Whether a run is due: something journaled since the last run, which is `hours`
        old (or there was none)."""
        last = self.last_run()
        journal = self.storage.journal(self.tenant)
        if journal.head_seq() <= (last["journal"] if last else 0):
            return False
        if last is None:
            return True
        at = at or dt.datetime.now(dt.UTC)
        return (at - dt.datetime.fromisoformat(last["time"])).total_seconds() >= hours * 3600

    def run(self, user: str = "magazin") -> dict:
        """Time-stamp the journal's head and every AIP version journaled since the last run;
        returns what was covered."""
        authority = self._authority()
        journal = self.storage.journal(self.tenant)
        journal.flush(user)  # what is time-stamped is in storage first
        known = self.index()["runs"]
        since = max((r["journal"] for r in known.values()), default=0)
        entries = list(journal.entries(since=since))
        if not entries:
            return {"tenant": self.tenant, "run": None, "versions": 0, "journal_until": since}
        head = entries[-1]
        name = self.policy.hash
        leaves = [{"journal": head["seq"],
                   "digest": ers.digest(name, canonical(head)).hex()}]  # fmt: skip
        seen = set()
        for e in entries:
            for o in e.get("objects") or []:
                key = (o["id"], o["version"])
                if key in seen:
                    continue
                seen.add(key)
                leaves.append({"object": o["id"], "version": o["version"],
                               "digest": self._inventory_digest(*key)})  # fmt: skip
        tree = ers.build(name, [bytes.fromhex(leaf["digest"]) for leaf in leaves])
        token = self._stamp(authority, tree.root, name)
        number = self._next()
        doc = {"kind": "initial", "hash": name, "time": tsp.token_time(token).isoformat(),
               "leaves": leaves, "tsa": authority.url}  # fmt: skip
        self._store(number, doc, token, user)
        journal.keep_timestamp(number, {"seq": head["seq"], "digest": leaves[0]["digest"],
                                        "hash": name, "time": doc["time"],
                                        "reduced": [[v.hex() for v in p]
                                                    for p in tree.reduced[0]]},
                               token, user)  # fmt: skip
        return {"tenant": self.tenant, "run": number, "versions": len(leaves) - 1,
                "journal_until": head["seq"], "time": doc["time"]}  # fmt: skip

    def _inventory_digest(self, object_id: str, version: str) -> str:
        return ers.digest(self.policy.hash, self._inventory(object_id, version)).hex()

    def _store(self, number: int, doc: dict, token: bytes, user: str) -> None:
        data = json.dumps(doc, indent=1, sort_keys=True).encode()
        self._put({f"runs/{number:06d}.json": data, f"runs/{number:06d}.tsr": token},
                  f"evidence run {number} ({doc['kind']})", user)  # fmt: skip

    def _put(self, files: dict[str, bytes], message: str, user: str) -> None:
        """A new version of the evidence object holding these files (and its description)."""
        from ..aip.builder import metadata_files, metadata_newfiles
        from .objects import evidence_description

        new = [NewFile(p, None, hashlib.sha512(d).hexdigest(), data=d) for p, d in files.items()]
        version = VersionInfo(now(), message, user, f"urn:magazin:user:{user}")
        storage = self.storage
        if self._object() is None:
            meta = metadata_newfiles(metadata_files(evidence_description(self.tenant), {}))
            if storage.create(self.tenant, self.object_id, [*meta, *new], version, None):
                return
        with storage.change(self.tenant, self.object_id) as change:
            meta = [NewFile(p, None, d) for p, d in change.head.state().items()
                    if not p.startswith(("runs/", "validation/"))]  # fmt: skip
            change.commit([*meta, *new], version, carry_state=False, action=None)

    # -- records ----------------------------------------------------------------------------

    def chains(self, runs: list[Run], object_id: str, version: str) -> list[list]:
        """The record's chains: (run, leaf index) of each time-stamp, chain by chain."""
        starts = []
        for run in runs:
            if run.kind in ("initial", "hash renewal"):
                for i, leaf in enumerate(run.leaves):
                    if leaf.get("object") == object_id and leaf.get("version") == version:
                        starts.append((run, i))
                        break
        chains = []
        for start, i in starts:
            chain = [(start, i)]
            for run in runs:
                if run.kind == "timestamp renewal" and run.number > start.number:
                    j = next((k for k, leaf in enumerate(run.leaves)
                              if leaf["chain"] == start.number), None)  # fmt: skip
                    if j is not None:
                        chain.append((run, j))
            chains.append(chain)
        return chains

    def record(self, object_id: str, version: str, runs: list[Run] | None = None) -> bytes:
        """The DER RFC 4998 evidence record of an object version's inventory."""
        runs = self.runs_of(object_id, version) if runs is None else runs
        chains = self.chains(runs, object_id, version)
        if not chains:
            raise EvidenceError(f"{object_id} {version}: not time-stamped yet (evidence run)")
        trees: dict[int, ers.Tree] = {}
        out = []
        for chain in chains:
            atss = []
            for run, i in chain:
                tree = trees.setdefault(run.number, run.tree())
                atss.append(ers.ArchiveTimeStamp(
                    ers.archive_time_stamp(run.hash, tree.reduced[i], run.token)))  # fmt: skip
            out.append(atss)
        return ers.evidence_record(out, [run.hash for chain in chains for run, _i in chain])

    def trusted(self) -> list[bytes]:
        return tsp.load_certificates(self.policy.tsa_certificate) if self.policy.tsa_url else []

    # -- renewal ----------------------------------------------------------------------------

    def renew_timestamps(self, user: str = "magazin", force: bool = False,
                         at: dt.datetime | None = None) -> dict:  # fmt: skip
        """Re-time-stamp every chain whose last token's signing certificate expires within
        `[evidence] renew_days`, or whose signature uses a hash no longer secure (all with
        `force`). Chains whose own hash is no longer secure need `renew_hash` instead."""
        authority = self._authority()
        runs = list(self.runs())
        at = at or dt.datetime.now(dt.UTC)
        secure = set(self.policy.secure_hashes)
        by_hash: dict[str, list[tuple[int, list[bytes], list[bytes], list[bytes]]]] = {}
        weak_chains: list[int] = []
        unavailable: list[str] = []
        # a hash renewal closes the chains before it: only the last chain of a record grows
        last_hash = max((r.number for r in runs if r.kind == "hash renewal"), default=0)
        for start in (r for r in runs if r.kind in ("initial", "hash renewal")
                      and r.number >= last_hash):  # fmt: skip
            tokens = [start.token] + [r.token for r in runs if r.kind == "timestamp renewal"
                                      and any(leaf["chain"] == start.number
                                              for leaf in r.leaves)]  # fmt: skip
            if start.hash not in secure:
                weak_chains.append(start.number)
                continue
            try:
                info = tsp.verify(tokens[-1], None, self.trusted())
            except tsp.TimestampError as e:
                raise EvidenceError(_unrenewable(start.number, e)) from None
            due = (info.signer_not_after - at).days < self.policy.renew_days
            weak = info.signature_algorithm.rsplit("/", 1)[-1] not in secure
            if force or due or weak:
                revocation = tsp.revocation_data(info.chain)
                try:  # a token whose signer was revoked proves nothing to carry on
                    tsp.check_revocation(info.chain, revocation.crls, info.time)
                except tsp.TimestampError as e:
                    raise EvidenceError(_unrenewable(start.number, e)) from None
                unavailable += revocation.unavailable
                digests = [ers.digest(start.hash, t) for t in tokens]
                by_hash.setdefault(start.hash, []).append(
                    (start.number, digests, info.chain, revocation.crls)
                )
        made = []
        for name, chains in by_hash.items():
            leaves = [{"chain": number, "digest": d.hex()} for number, ds, _c, _r in chains
                      for d in ds]  # fmt: skip
            bundles = [len(ds) for _n, ds, _c, _r in chains]
            tree = ers.build(name, [bytes.fromhex(leaf["digest"]) for leaf in leaves], bundles)
            number = self._next()
            # the renewed tokens' certificate chains and revocation lists first: what
            # checks them later
            validation = b"".join(
                [_pem(der) for _n, _ds, certs, _r in chains for der in certs]
                + [_pem(der, "X509 CRL") for _n, _ds, _c, crls in chains for der in crls]
            )
            self._put({f"validation/{number:06d}.pem": validation},
                      f"validation data before evidence run {number}", user)  # fmt: skip
            token = self._stamp(authority, tree.root, name)
            self._store(number, {"kind": "timestamp renewal", "hash": name, "leaves": leaves,
                                 "time": tsp.token_time(token).isoformat(),
                                 "tsa": authority.url}, token, user)  # fmt: skip
            runs = list(self.runs())
            made.append({"run": number, "hash": name, "chains": len(chains)})
        return {"tenant": self.tenant, "kind": "timestamps", "runs": made,
                "chains": sum(m["chains"] for m in made),
                "weak_hash_chains": weak_chains,
                "revocation_unavailable": list(dict.fromkeys(unavailable))}  # fmt: skip

    def renew_hash(self, hash_name: str, user: str = "magazin") -> dict:
        """A new chain for every AIP version with evidence, with `hash_name`: its leaf the
        hash of the inventory's hash and the hash of the record's chains so far."""
        if hash_name not in self.policy.secure_hashes:
            raise EvidenceError(f"{hash_name} is not among [evidence] secure_hashes")
        authority = self._authority()
        runs = list(self.runs())
        covered = list(dict.fromkeys((leaf["object"], leaf["version"]) for run in runs
                                     if run.kind == "initial" for leaf in run.leaves
                                     if "object" in leaf))  # fmt: skip
        if not covered:
            return {"tenant": self.tenant, "kind": "hash", "runs": [], "versions": 0}
        leaves = []
        for oid, version in covered:
            record = ers.EvidenceRecord.load(self.record(oid, version, runs))
            previous = record["archive_time_stamp_sequence"].dump()
            data = ers.digest(hash_name, self._inventory(oid, version))
            chained = ers.digest(hash_name, data + ers.digest(hash_name, previous))
            leaves.append({"object": oid, "version": version, "digest": chained.hex()})
        tree = ers.build(hash_name, [bytes.fromhex(leaf["digest"]) for leaf in leaves])
        number = self._next()
        token = self._stamp(authority, tree.root, hash_name)
        self._store(number, {"kind": "hash renewal", "hash": hash_name, "leaves": leaves,
                             "time": tsp.token_time(token).isoformat(),
                             "tsa": authority.url}, token, user)  # fmt: skip
        return {"tenant": self.tenant, "kind": "hash", "runs": [{"run": number,
                "hash": hash_name, "versions": len(leaves)}], "versions": len(leaves)}  # fmt: skip

    def _authority(self) -> tsp.Authority:
        authority = self.authority()
        if authority is None:
            raise EvidenceError("no time-stamping authority configured ([evidence] tsa_url)")
        return authority

    def _stamp(self, authority: tsp.Authority, root: bytes, hash_name: str) -> bytes:
        try:
            return tsp.request(authority, root, hash_name)
        except tsp.TimestampError as e:
            raise EvidenceError(str(e)) from None

    def _next(self) -> int:
        """The number of the next run (after the last one stored)."""
        return max(map(int, self.index()["runs"]), default=0) + 1

    def _inventory(self, object_id: str, version: str) -> bytes:
        obj = self.storage.open(self.tenant, object_id)
        with obj.open_content(f"{version}/inventory.json") as f:
            return f.read()


def _unrenewable(run: int, why: Exception) -> str:
    return f"run {run}: its last time-stamp does not hold, so it cannot be renewed: {why}"


def _pem(der: bytes, kind: str = "CERTIFICATE") -> bytes:
    from asn1crypto import pem

    return pem.armor(kind, der)


def verify_record(record: bytes, data: bytes, trusted: list[bytes]) -> dict:
    """Check an evidence record against the data object it covers (RFC 4998, 5.3): in the
    first chain the first time-stamp covers the data's hash through its reduced hash tree; in
    each later chain (a hash renewal) it covers H(H(data) + H(the chains before it)); every
    later time-stamp of a chain covers the one before it; every token's signature and
    certificate chain hold."""
    problems: list[str] = []
    stamps: list[dict] = []
    try:
        er = ers.EvidenceRecord.load(record)
        sequence = er["archive_time_stamp_sequence"]
        chains = list(sequence)
        _ = er.native  # parse it whole: a damaged record fails here, not half-way
    except (ValueError, TypeError, KeyError) as e:
        return {"valid": False, "time_stamps": [], "problems": [f"not an evidence record: {e}"]}
    if not chains:
        problems.append("the evidence record holds no time-stamp")
    for c, chain in enumerate(chains):
        previous: bytes | None = None
        for a, ats in enumerate(chain):
            where = f"chain {c + 1}, time-stamp {a + 1}"
            token = ats["time_stamp"].dump()
            try:  # absent, it is the hash of the time-stamp's imprint (RFC 4998, 4.2)
                given = ats["digest_algorithm"]
                name = given["algorithm"].native if given.native else tsp.token_imprint(token)[0]
            except (ValueError, TypeError, KeyError, tsp.TimestampError) as e:
                problems.append(f"{where}: unreadable: {e}")
                continue
            reduced = [[bytes(v.native) for v in p] for p in ats["reduced_hashtree"]] \
                if ats["reduced_hashtree"].native else []  # fmt: skip
            if previous is not None:
                leaf = ers.digest(name, previous)
            elif c == 0:
                leaf = ers.digest(name, data)
            else:  # a hash renewal: the data and every chain before this one
                before = ers.ArchiveTimeStampSequence(chains[:c]).dump()
                leaf = ers.digest(name, ers.digest(name, data) + ers.digest(name, before))
            try:
                root = ers.root_of(name, leaf, reduced)
            except ValueError as e:
                problems.append(f"{where}: {e}")
                root = None
            try:
                info = tsp.verify(token, root, trusted)
                stamps.append({"time": info.time.isoformat(), "tsa": info.tsa, "hash": name,
                               "chain": c + 1,
                               "signer_not_after": info.signer_not_after.isoformat()})  # fmt: skip
            except tsp.TimestampError as e:
                problems.append(f"{where}: {e}")
            previous = token
    return {"valid": not problems, "time_stamps": stamps, "problems": problems}
