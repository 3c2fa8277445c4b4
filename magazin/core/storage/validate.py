"""An OCFL object validator (OCFL 1.0 and 1.1), so that Magazin can tell by itself whether an
object it reads is sound. Error and warning codes are those of the spec's validation codes.

`validate_object(path)` returns (valid, errors, warnings), each message starting with its code.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from ..hashing import file_digest

DIGEST_LENGTHS = {
    "sha512": 128,
    "sha256": 64,
    "sha1": 40,
    "md5": 32,
    "blake2b-512": 128,
    "blake2b-160": 40,
    "blake2b-256": 64,
    "blake2b-384": 96,
    "sha512/256": 64,
}
_HASHLIB = {
    "sha512": "sha512",
    "sha256": "sha256",
    "sha1": "sha1",
    "md5": "md5",
    "blake2b-512": "blake2b",
    "sha512/256": "sha512_256",
}
_VERSION = re.compile(r"^v(\d+)$")
_CREATED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
REGISTERED_EXTENSIONS = {
    "0001-digest-algorithms",
    "0002-flat-direct-storage-layout",
    "0003-hash-and-id-n-tuple-storage-layout",
    "0004-hashed-n-tuple-storage-layout",
    "0005-mutable-head",
    "0006-flat-omit-prefix-storage-layout",
    "0007-n-tuple-omit-prefix-storage-layout",
    "0008-schema-registry",
    "0009-digest-algorithms",
    "0010-differential-n-tuple-omit-prefix-storage-layout",
    "0011-direct-clean-path-layout",
    "0012-path-normalization",
}


def _digest(path: Path, alg: str) -> str:
    return file_digest(path, _HASHLIB[alg])


class _Result:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, code: str, msg: str) -> None:
        self.errors.append(f"{code}: {msg}")

    def warn(self, code: str, msg: str) -> None:
        self.warnings.append(f"{code}: {msg}")


def _bad_path(p: str) -> bool:
    return (
        not isinstance(p, str)
        or p.startswith("/")
        or p.endswith("/")
        or any(s in ("", ".", "..") for s in p.split("/"))
    )


def _conflicts(paths: list[str]) -> str | None:
    """A path that is also used as a directory of another path."""
    s = set(paths)
    for p in paths:
        parts = p.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in s:
                return p
    return None


class _Inventory:
    """The checks on one inventory file (root or version)."""

    def __init__(self, res: _Result, where: str, spec: str):
        self.res, self.where, self.spec = res, where, spec
        self.ok = True
        self.data: dict = {}
        self.manifest_by_path: dict[str, str] = {}
        self.version_numbers: list[int] = []
        self.padding = 0

    def e(self, code: str, msg: str) -> None:
        self.ok = False
        self.res.error(code, f"{self.where}: {msg}")

    def w(self, code: str, msg: str) -> None:
        self.res.warn(code, f"{self.where}: {msg}")

    def check(self, inv: object) -> bool:
        if not isinstance(inv, dict):
            self.e("E033", "inventory is not a JSON object")
            return False
        self.data = inv
        oid = inv.get("id")
        if "id" not in inv:
            self.e("E036", "missing id")
        elif not isinstance(oid, str):
            self.e("E037", "id is not a string")
        elif not _URI.match(oid):
            self.w("W005", f"id {oid!r} is not a URI")
        t = inv.get("type")
        if "type" not in inv:
            self.e("E036", "missing type")
        elif not isinstance(t, str):
            self.e("E038", "type is not a string")
        elif t != f"https://ocfl.io/{self.spec}/spec/#inventory":
            if t in ("https://ocfl.io/1.0/spec/#inventory", "https://ocfl.io/1.1/spec/#inventory"):
                self.e(
                    "E103" if t < f"https://ocfl.io/{self.spec}" else "E038",
                    f"type {t} does not match the declared OCFL {self.spec}",
                )
            else:
                self.e("E038", f"type {t!r} is not an OCFL inventory type")
        alg = inv.get("digestAlgorithm")
        if "digestAlgorithm" not in inv:
            self.e("E036", "missing digestAlgorithm")
        elif alg not in ("sha512", "sha256"):
            self.e("E025", f"digestAlgorithm {alg!r} is not sha512 or sha256")
        elif alg == "sha256":
            self.w("W004", "uses sha256 (sha512 SHOULD be used)")
        cd = inv.get("contentDirectory", "content")
        if not isinstance(cd, str) or "/" in cd or cd in ("", ".", ".."):
            self.e("E017", f"invalid contentDirectory {cd!r}")
            cd = "content"
        self.content_dir = cd
        head = inv.get("head")
        if "head" not in inv:
            self.e("E036", "missing head")
        self._versions(inv)
        if "head" in inv and self.version_numbers:
            expect = self.vname(max(self.version_numbers))
            if head != expect:
                self.e("E040", f"head {head!r} is not the most recent version {expect!r}")
        self._manifest(inv, alg if alg in DIGEST_LENGTHS else "sha512")
        self._states(inv)
        self._fixity(inv)
        return self.ok

    def vname(self, n: int) -> str:
        return f"v{n:0{self.padding}d}" if self.padding else f"v{n}"

    def _versions(self, inv: dict) -> None:
        versions = inv.get("versions")
        if "versions" not in inv:
            self.e("E041", "missing versions")
            return
        if not isinstance(versions, dict) or not versions:
            self.e("E008", "versions must hold at least one version")
            return
        nums, widths = [], set()
        for name in versions:
            m = _VERSION.match(name) if isinstance(name, str) else None
            if not m or int(m.group(1)) == 0:
                self.e("E046", f"invalid version name {name!r}")
                continue
            nums.append(int(m.group(1)))
            widths.add(len(m.group(1)) if m.group(1).startswith("0") else 0)
        if not nums:
            return
        nums.sort()
        if nums != list(range(1, len(nums) + 1)):
            self.e("E010", f"versions are not a continuous sequence from v1: {sorted(versions)}")
        zero_padded = [n for n in versions if _VERSION.match(n) and n[1] == "0"]
        if zero_padded:
            lens = {len(n) for n in versions}
            if len(lens) > 1:
                self.e("E012", "inconsistent zero-padding of version names")
            else:
                self.padding = lens.pop() - 1
                self.w("W001", "zero-padded version names")
        self.version_numbers = nums
        for name, v in versions.items():
            self._version_block(name, v)

    def _version_block(self, name: str, v: object) -> None:
        if not isinstance(v, dict):
            self.e("E047", f"version {name} is not an object")
            return
        created = v.get("created")
        if "created" not in v:
            self.e("E048", f"version {name} lacks created")
        elif not isinstance(created, str) or not _CREATED.match(created):
            self.e(
                "E049",
                f"version {name}: created {created!r} is not RFC 3339 with seconds and time zone",
            )
        if "state" not in v:
            self.e("E048", f"version {name} lacks state")
        elif not isinstance(v["state"], dict):
            self.e("E050", f"version {name}: state is not an object")
        if "message" in v and not isinstance(v["message"], str):
            self.e("E094", f"version {name}: message is not a string")
        if "user" in v:
            u = v["user"]
            if not isinstance(u, dict) or not isinstance(u.get("name"), str):
                self.e("E054", f"version {name}: user needs a name string")
            elif "address" not in u:
                self.w("W008", f"version {name}: user has no address")
            elif not isinstance(u["address"], str):
                self.e("E054", f"version {name}: user address is not a string")
            elif not _URI.match(u["address"]):
                self.w("W009", f"version {name}: user address {u['address']!r} is not a URI")
        if "message" not in v or "user" not in v:
            self.w("W007", f"version {name} lacks message or user")

    def _digest_ok(self, d: object, alg: str) -> bool:
        n = DIGEST_LENGTHS.get(alg)
        return (
            isinstance(d, str)
            and (n is None or len(d) == n)
            and bool(re.fullmatch(r"[0-9a-fA-F]+", d))
        )

    def _manifest(self, inv: dict, alg: str) -> None:
        man = inv.get("manifest")
        if "manifest" not in inv:
            self.e("E041", "missing manifest")
            return
        if not isinstance(man, dict):
            self.e("E041", "manifest is not an object")
            return
        seen_digests: set[str] = set()
        for d, paths in man.items():
            if not self._digest_ok(d, alg):
                self.e("E096", f"manifest digest {d!r} is not a {alg} digest")
            if d.lower() in seen_digests:
                self.e("E096", f"manifest lists digest {d} twice")
            seen_digests.add(d.lower())
            if not isinstance(paths, list) or not paths:
                self.e("E092", f"manifest entry {d} has no content paths")
                continue
            for p in paths:
                if _bad_path(p):
                    self.e("E099", f"invalid content path {p!r}")
                    continue
                if p in self.manifest_by_path:
                    self.e("E101", f"content path {p!r} listed twice")
                self.manifest_by_path[p] = d
                parts = p.split("/")
                m = _VERSION.match(parts[0])
                if len(parts) < 3 or not m or parts[1] != self.content_dir:
                    self.e("E042", f"content path {p!r} is not vN/{self.content_dir}/…")
                elif self.version_numbers and int(m.group(1)) not in self.version_numbers:
                    self.e("E042", f"content path {p!r} names a version that does not exist")
        c = _conflicts(list(self.manifest_by_path))
        if c:
            self.e("E101", f"content path {c!r} conflicts with a directory of another")

    def _states(self, inv: dict) -> None:
        versions = inv.get("versions")
        man = inv.get("manifest") if isinstance(inv.get("manifest"), dict) else {}
        if not isinstance(versions, dict):
            return
        used: set[str] = set()
        lower = {d.lower(): d for d in man}
        for name, v in versions.items():
            if not isinstance(v, dict) or not isinstance(v.get("state"), dict):
                continue
            logical: list[str] = []
            seen_digests: set[str] = set()
            for d, paths in v["state"].items():
                if d not in man:
                    self.e(
                        "E050",
                        f"version {name}: state digest {d} is not in the manifest"
                        + (" (different letter case)" if d.lower() in lower else ""),
                    )
                if d in seen_digests:
                    self.e("E050", f"version {name}: state digest {d} repeated")
                seen_digests.add(d)
                used.add(d)
                if not isinstance(paths, list) or not paths:
                    self.e("E050", f"version {name}: state entry {d} has no paths")
                    continue
                for p in paths:
                    if _bad_path(p):
                        self.e("E053", f"version {name}: invalid logical path {p!r}")
                    logical.append(p)
            if len(set(logical)) != len(logical):
                self.e("E095", f"version {name}: a logical path is listed twice")
            c = _conflicts(logical)
            if c:
                self.e("E095", f"version {name}: logical path {c!r} conflicts with a directory")
        if self.spec == "1.1":
            for d in man:
                if d not in used:
                    self.e("E107", f"manifest digest {d} is used in no version state")

    def _fixity(self, inv: dict) -> None:
        if "fixity" not in inv:
            return
        fx = inv["fixity"]
        if not isinstance(fx, dict):
            self.e("E111" if fx is None else "E056", "fixity is not an object")
            return
        for alg, block in fx.items():
            if not isinstance(block, dict):
                self.e("E057", f"fixity block {alg!r} is not an object")
                continue
            seen: set[str] = set()
            for d, paths in block.items():
                if d.lower() in seen:
                    self.e("E097", f"fixity {alg} lists digest {d} twice")
                seen.add(d.lower())
                if not isinstance(paths, list):
                    self.e("E057", f"fixity {alg} {d}: not a list")
                    continue
                for p in paths:
                    if _bad_path(p):
                        self.e("E099", f"fixity {alg}: invalid content path {p!r}")
                    elif p not in self.manifest_by_path:
                        self.e("E057", f"fixity {alg}: {p!r} is not in the manifest")


def _read_inventory(
    res: _Result, where: Path, alg_hint: str | None, label: str, spec: str
) -> tuple[_Inventory | None, bytes | None]:
    inv_file = where / "inventory.json"
    try:
        raw = inv_file.read_bytes()
    except OSError:
        return None, None
    inv = _Inventory(res, label, spec)
    try:
        data = json.loads(raw)
    except ValueError as e:
        inv.e("E033", f"inventory.json is not valid JSON: {e}")
        return inv, raw
    inv.check(data)
    alg = data.get("digestAlgorithm") if isinstance(data, dict) else None
    alg = alg if alg in ("sha512", "sha256") else alg_hint
    side = where / f"inventory.json.{alg}" if alg else None
    if side is None or not side.exists():
        inv.e("E058", f"missing sidecar inventory.json.{alg}")
    else:
        text = side.read_text("utf-8", errors="replace")
        m = re.fullmatch(r"([0-9a-fA-F]+)[ \t]+inventory\.json\n?", text)
        if not m:
            inv.e("E061", "sidecar is not '<digest> inventory.json'")
        elif m.group(1).lower() != hashlib.new(alg, raw).hexdigest():
            inv.e("E060", "inventory.json does not match its sidecar digest")
    return inv, raw


def validate_object(path: Path, check_digests: bool = True) -> tuple[bool, list[str], list[str]]:
    """Validate the OCFL object at `path`."""
    res = _Result()
    path = Path(path)
    try:
        entries = sorted(os.listdir(path))
    except OSError as e:
        res.error("E003", f"cannot read object root: {e}")
        return False, res.errors, res.warnings
    decls = [n for n in entries if n.startswith("0=")]
    if len(decls) != 1:
        res.error("E003", f"{len(decls)} declaration files (exactly one required)")
        return False, res.errors, res.warnings
    decl = decls[0]
    m = re.fullmatch(r"0=ocfl_object_(1\.[01])", decl)
    if not m:
        res.error("E003", f"unknown object declaration {decl!r}")
        return False, res.errors, res.warnings
    spec = m.group(1)
    if (path / decl).read_bytes() != f"ocfl_object_{spec}\n".encode():
        res.error("E007", "declaration file content is not 'ocfl_object_X.Y' and a newline")
    root_inv, raw_root = _read_inventory(res, path, None, "inventory.json", spec)
    if root_inv is None:
        res.error("E063", "no inventory.json in the object root")
        return False, res.errors, res.warnings
    if not root_inv.data:
        return False, res.errors, res.warnings
    inv = root_inv.data
    alg = inv.get("digestAlgorithm", "sha512")
    versions = inv.get("versions") if isinstance(inv.get("versions"), dict) else {}
    version_dirs = [n for n in entries if _VERSION.match(n) and (path / n).is_dir()]
    allowed = {decl, "inventory.json", f"inventory.json.{alg}", "extensions", "logs"}
    for n in entries:
        if n in allowed or n in version_dirs:
            continue
        if n.startswith("inventory.json."):
            continue
        res.error(
            "E001",
            f"unexpected {'folder' if (path / n).is_dir() else 'file'} {n!r} in the object root",
        )
    for v in versions:
        if v not in version_dirs:
            res.error("E010", f"version folder {v} listed in the inventory is missing")
    for v in version_dirs:
        if v not in versions:
            res.error(
                "E046",
                f"version folder {v} is not in the root inventory "
                "(the root inventory must be of the most recent version)",
            )
    ext = path / "extensions"
    if ext.is_dir():
        for n in os.listdir(ext):
            if not (ext / n).is_dir():
                res.error("E067", f"file {n!r} directly in extensions/")
            elif n not in REGISTERED_EXTENSIONS:
                res.warn("W013", f"unregistered extension {n!r}")
    cd = root_inv.content_dir
    head = inv.get("head")
    # version folders: their inventories and content
    on_disk: set[str] = set()
    for v in sorted(version_dirs, key=lambda n: int(n[1:])):
        vdir = path / v
        vinv, vraw = _read_inventory(res, vdir, alg, f"{v}/inventory.json", spec)
        if vinv is None:
            if v == head:
                res.warn("W010", f"{v} has no inventory.json")
            else:
                res.warn("W010", f"{v} has no inventory.json")
        elif vinv.data:
            _compare_version_inventory(res, path, v, vinv, root_inv, vraw, raw_root, head)
        for n in os.listdir(vdir):
            p = vdir / n
            if n == cd and p.is_dir():
                files, empties = _walk(p)
                for f in files:
                    on_disk.add(f"{v}/{cd}/{f}")
                for d in empties:
                    res.error("E024", f"empty folder {v}/{cd}/{d}")
                if not files and not empties:
                    res.warn("W003", f"{v}/{cd} is empty")
            elif n == "inventory.json" or n.startswith("inventory.json."):
                continue
            elif p.is_dir():
                if n in ("content",) or (vinv and vinv.data.get("contentDirectory") == n):
                    res.error(
                        "E019",
                        f"{v}/{n}: content directory differs from the "
                        "root inventory's contentDirectory",
                    )
                else:
                    res.warn("W002", f"extra folder {v}/{n}")
            else:
                res.error("E015", f"{v}/{n}: file outside the content directory")
    listed = set(root_inv.manifest_by_path)
    for p in sorted(on_disk - listed):
        res.error("E023", f"{p}: file in content but not in the manifest")
    for p in sorted(listed - on_disk):
        res.error("E092", f"{p}: listed in the manifest but not present")
    if check_digests and alg in _HASHLIB:
        for p in sorted(listed & on_disk):
            d = root_inv.manifest_by_path[p]
            if _digest(path / p, alg) != d.lower():
                res.error("E092", f"{p}: content does not match its manifest digest")
        _check_fixity(res, path, inv, "inventory.json")
    return not res.errors, res.errors, res.warnings


def _check_fixity(res: _Result, path: Path, inv: dict, label: str) -> None:
    """Files whose bytes do not match a digest of the inventory's fixity block (E093)."""
    fixity = inv.get("fixity") if isinstance(inv.get("fixity"), dict) else {}
    for alg, block in fixity.items():
        if alg not in _HASHLIB or not isinstance(block, dict):
            continue
        for d, paths in block.items():
            for p in paths if isinstance(paths, list) else []:
                if (path / p).is_file() and _digest(path / p, alg) != str(d).lower():
                    res.error("E093", f"{label}: {p} does not match its {alg} fixity digest")


def _walk(d: Path) -> tuple[list[str], list[str]]:
    files, empties = [], []
    for dirpath, dirnames, filenames in os.walk(d):
        rel = os.path.relpath(dirpath, d).replace(os.sep, "/")
        for f in filenames:
            files.append(f if rel == "." else f"{rel}/{f}")
        if not dirnames and not filenames and rel != ".":
            empties.append(rel)
    return files, empties


def _compare_version_inventory(
    res: _Result,
    path: Path,
    v: str,
    vinv: _Inventory,
    root: _Inventory,
    vraw: bytes | None,
    raw_root: bytes | None,
    head: str | None,
) -> None:
    vdata, rdata = vinv.data, root.data
    if v == head:
        if vraw != raw_root:
            res.error("E064", f"{v}/inventory.json differs from the root inventory")
        return
    if vdata.get("id") != rdata.get("id"):
        res.error(
            "E037", f"{v}/inventory.json has id {vdata.get('id')!r}, the root {rdata.get('id')!r}"
        )
    if vdata.get("head") != v:
        res.error("E040", f"{v}/inventory.json has head {vdata.get('head')!r}")
    if vdata.get("contentDirectory", "content") != rdata.get("contentDirectory", "content"):
        res.error("E019", f"{v}/inventory.json has a different contentDirectory")
    rtype, vtype = rdata.get("type"), vdata.get("type")
    if isinstance(rtype, str) and isinstance(vtype, str) and vtype > rtype:
        res.error("E103", f"{v}/inventory.json declares a later spec than the root")
    same_alg = vdata.get("digestAlgorithm") == rdata.get("digestAlgorithm")
    if not same_alg:
        res.warn("W004", f"{v}/inventory.json uses {vdata.get('digestAlgorithm')}")
    rversions = rdata.get("versions") or {}
    valg = vdata.get("digestAlgorithm")
    for name, vb in (vdata.get("versions") or {}).items():
        rb = rversions.get(name)
        if not isinstance(rb, dict) or not isinstance(vb, dict):
            res.error("E066", f"{v}/inventory.json: version {name} not in the root inventory")
            continue
        # compare states through content paths (the algorithms may differ)
        vstate = _paths_state(vb.get("state"), vinv.manifest_by_path)
        rstate = _paths_state(rb.get("state"), root.manifest_by_path)
        if vstate != rstate:
            res.error("E066", f"{v}/inventory.json: state of {name} differs from the root's")
        for key in ("message", "user", "created"):
            if vb.get(key) != rb.get(key):
                res.warn("W011", f"{v}/inventory.json: {key} of {name} differs from the root")
    # content of this version's manifest must describe the files of the versions it knows
    known = set(vinv.manifest_by_path)
    for p, _d in root.manifest_by_path.items():
        pv = p.split("/", 1)[0]
        if pv in (vdata.get("versions") or {}) and p not in known:
            res.error("E023", f"{v}/inventory.json: manifest lacks {p}")
    if valg in _HASHLIB and not same_alg:
        for p, d in vinv.manifest_by_path.items():
            if (path / p).is_file() and _digest(path / p, valg) != d.lower():
                res.error("E092", f"{v}/inventory.json: {p} does not match its {valg} digest")
    _check_fixity(res, path, vdata, f"{v}/inventory.json")
    if same_alg:
        for p, d in vinv.manifest_by_path.items():
            if root.manifest_by_path.get(p, "").lower() != d.lower():
                res.error("E092", f"{v}/inventory.json: digest of {p} differs from the root")


def _paths_state(state: object, by_path: dict[str, str]) -> dict[str, str] | None:
    """Logical path -> first content path, so states can be compared across algorithms."""
    if not isinstance(state, dict):
        return None
    inverse: dict[str, str] = {}
    for p, d in sorted(by_path.items()):
        inverse.setdefault(d, p)
    out = {}
    for d, paths in state.items():
        for lp in paths if isinstance(paths, list) else []:
            out[lp] = inverse.get(d, d)
    return out
