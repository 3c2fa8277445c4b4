"""Read a BagIt bag (RFC 8493 and the older drafts 0.93-0.97), as a folder or inside a ZIP.

The `bagit` library parses tag files and manifests and checks structure and completeness.
Payload digests are *not* computed here: they are compared during the single streaming copy
into staging. Things the library gets wrong or leaves out are fixed on our side: strict
bagit.txt syntax, every manifest listing every payload file, names colliding by case or
Unicode normalisation, fetch.txt entries that are not present (Magazin never fetches), and
absent operating-system junk files (.DS_Store, Thumbs.db) which are only a warning.
"""

from __future__ import annotations

import codecs
import logging
import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

import bagit

from ..hashing import file_digest
from ..i18n import N_
from ..problems import Problem, ProblemList
from .model import PayloadFile
from .safety import check_collisions

SYSTEM_FILES = {".ds_store", "thumbs.db", "desktop.ini", "._.ds_store"}
_BAGIT_LINE = re.compile(r"^(BagIt-Version|Tag-File-Character-Encoding): \S.*$")
_HASHES = {"md5", "sha1", "sha224", "sha256", "sha384", "sha512"}


def is_bag(root: Path) -> bool:
    """A bag, or a folder that looks like one (payload and manifests) but lacks bagit.txt."""
    return (root / "bagit.txt").is_file() or (
        (root / "data").is_dir() and any(root.glob("manifest-*.txt"))
    )


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _check_bagit_txt(root: Path, problems: ProblemList) -> None:
    raw = (root / "bagit.txt").read_bytes()
    if raw.startswith(codecs.BOM_UTF8):
        problems.add("bagit.txt", N_("bagit.txt must not start with a byte-order mark"), "bad-bag")
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        problems.add("bagit.txt", N_("bagit.txt is not UTF-8"), "bad-bag")
        return
    lines = [ln for ln in text.replace("\r\n", "\n").split("\n") if ln]
    for ln in lines:
        if not _BAGIT_LINE.match(ln):
            problems.add(
                "bagit.txt",
                N_(
                    "malformed line {line!r}: expected 'BagIt-Version: M.N' "
                    "and 'Tag-File-Character-Encoding: ENCODING'"
                ).format(line=ln),
                "bad-bag",
            )


def _manifest_paths(bag: bagit.Bag, manifest: str, warnings: list[Problem]) -> set[str]:
    """The normalised entry paths of one manifest file (as bagit itself reads them)."""
    out: set[str] = set()
    name = os.path.basename(manifest)
    star = dotslash = False
    with open(manifest, encoding=bag.encoding) as f:
        for line in f:
            line = line.strip().lstrip("\ufeff")
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            if len(parts) == 2:
                star = star or parts[1].startswith("*")
                dotslash = dotslash or parts[1].lstrip("*").startswith("./")
                p = bagit._decode_filename(os.path.normpath(parts[1].lstrip("*")))
                out.add(unicodedata.normalize("NFC", p))
    if star:
        warnings.append(
            Problem(
                name,
                N_("manifest written by md5sum-style tools ('*' binary marker before the path)"),
                "bag-warning",
            )
        )
    if dotslash:
        warnings.append(Problem(name, N_("manifest paths start with './'"), "bag-warning"))
    return out


def check_bag(
    root: Path, problems: ProblemList, warnings: list[Problem], payload: list[PayloadFile]
) -> dict[str, str]:
    """Check the bag at `root` (tag files real, payload possibly placeholders).

    `payload` lists the files under data/ with paths relative to the bag root; their
    `declared` digests are filled in. Returns the bag-info tags (first value of each).
    """
    if not (root / "bagit.txt").is_file():
        problems.add(
            "bagit.txt", N_("the bag has no bagit.txt (required bag declaration)"), "bad-bag"
        )
        return {}
    _check_bagit_txt(root, problems)
    if problems:
        return {}
    capture = _Capture()
    bagit.LOGGER.addHandler(capture)
    try:
        try:
            bag = bagit.Bag(str(root))
            bag._validate_structure()
            bag._validate_bagittxt()
            bag.validate_fetch()
        except bagit.BagError as e:
            details = getattr(e, "details", None) or []
            problems.add(root.name, N_("not a valid bag: {error}").format(error=e), "bad-bag")
            for d in details:
                problems.add(getattr(d, "path", root.name), str(d), "bad-bag")
            return {}
        except (UnicodeError, LookupError, ValueError) as e:
            problems.add(root.name, N_("not a valid bag: {error}").format(error=e), "bad-bag")
            return {}
        fs_by_norm = {unicodedata.normalize("NFC", f.path): f for f in payload}
        manifest_paths = {unicodedata.normalize("NFC", p) for p in bag.payload_entries()}
        check_collisions(sorted(bag.entries), problems)
        fetch = {
            unicodedata.normalize("NFC", os.path.normpath(f)) for f in bag.files_to_be_fetched()
        }
        for p in sorted(manifest_paths - set(fs_by_norm)):
            base = p.rsplit("/", 1)[-1].lower()
            if p in fetch:
                problems.add(
                    p,
                    N_(
                        "listed in fetch.txt but not present: Magazin never fetches "
                        "files; deliver the complete bag"
                    ),
                    "fetch-not-present",
                )
            elif base in SYSTEM_FILES:
                warnings.append(
                    Problem(
                        p,
                        N_("operating-system file listed in the manifest but absent; ignored"),
                        "system-file-missing",
                    )
                )
            else:
                problems.add(
                    p, N_("listed in the manifest but missing from the payload"), "missing-file"
                )
        for p in sorted(set(fs_by_norm) - manifest_paths):
            problems.add(p, N_("payload file not listed in any manifest"), "unlisted-file")
        for f in sorted(fetch - set(fs_by_norm) - manifest_paths):
            problems.add(
                f,
                N_("listed in fetch.txt but not present: Magazin never fetches"),
                "fetch-not-present",
            )
        missing_system = [w for w in warnings if w.code == "system-file-missing"]
        try:
            bag._validate_oxum()
        except bagit.BagError as e:
            if missing_system:
                warnings.append(
                    Problem(
                        "bag-info.txt",
                        N_("{error} (absent system files)").format(error=e),
                        "bag-warning",
                    )
                )
            else:
                problems.add("bag-info.txt", str(e), "bad-bag")
        for m in bag.manifest_files():
            listed = _manifest_paths(bag, m, warnings)
            for p in sorted(set(fs_by_norm) - listed):
                if p in manifest_paths:
                    problems.add(
                        p,
                        N_(
                            "not listed in {manifest}: every manifest must list every payload file"
                        ).format(manifest=os.path.basename(m)),
                        "unlisted-file",
                    )
        for p, f in fs_by_norm.items():
            if p.rsplit("/", 1)[-1].lower() in SYSTEM_FILES:
                warnings.append(
                    Problem(p, N_("operating-system file in the payload"), "system-file")
                )
            for alg, digest in bag.entries.get(bag.normalized_manifest_names.get(p, p), {}).items():
                if alg in _HASHES:
                    f.declared[alg] = digest.lower()
        for entry, digests in bag.entries.items():
            if entry.startswith("data" + os.sep):
                continue
            full = root / entry
            if not full.is_file():
                problems.add(
                    entry, N_("tag file listed in a tag manifest is missing"), "missing-file"
                )
                continue
            for alg, digest in digests.items():
                if alg in _HASHES and file_digest(full, alg) != digest.lower():
                    problems.add(
                        entry,
                        N_("{algorithm} of the tag file does not match the tag manifest").format(
                            algorithm=alg
                        ),
                        "checksum-mismatch",
                    )
        for msg in capture.messages:
            warnings.append(Problem(root.name, msg, "bag-warning"))
        return {k: (v[0] if isinstance(v, list) else v) for k, v in bag.info.items()}
    finally:
        bagit.LOGGER.removeHandler(capture)


def shadow_bag(entries: dict[str, PayloadFile], tmp_parent: Path) -> Path:
    """Lay out a bag from a ZIP for the library: tag files real, payload as sparse files."""
    shadow = Path(tempfile.mkdtemp(prefix="bag-", dir=tmp_parent))
    for rel, pf in entries.items():
        target = shadow / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as out:
            if rel.startswith("data/"):
                out.truncate(pf.size)
            else:
                with pf.opener() as src:
                    shutil.copyfileobj(src, out)
    return shadow
