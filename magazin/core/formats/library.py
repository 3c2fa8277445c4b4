"""Which PRONOM signature files are in use, and their compiled form cached on disk.

By default the DROID and container signature files that opf-fido ships are used. `magazin
formats update` installs newer ones into `MAGAZIN_HOME/formats/` (and names them in
`current.json`); from then on every identification uses them and says so in its agent string,
which the ingest writes into PREMIS. The parsed signature set is pickled under
`formats/cache/` keyed by the files' SHA-256 and the engine version, so it is read once.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import tempfile
from pathlib import Path

from ..hashing import file_digest
from .signatures import SignatureFileError, SignatureSet, read_signature_files

CACHE_FORMAT = 1  # the parser's source is part of the key too


def fido_signature_files() -> tuple[Path, Path]:
    """The DROID and container signature files shipped with opf-fido."""
    import fido

    conf = Path(fido.__file__).parent / "conf"
    droid = sorted(conf.glob("DROID_SignatureFile*.xml"))
    cont = sorted(conf.glob("container-signature-*.xml"))
    if not droid or not cont:
        raise SignatureFileError(f"{conf}: opf-fido ships no DROID/container signature file")
    return droid[-1], cont[-1]


def formats_dir(home: Path) -> Path:
    return home / "formats"


def current_files(home: Path | None) -> tuple[Path, Path | None]:
    """The signature files in use for this archive home (installed ones, else fido's)."""
    if home is not None:
        cur = formats_dir(home) / "current.json"
        if cur.exists():
            data = json.loads(cur.read_text(encoding="utf-8"))
            d = formats_dir(home) / "signatures"
            return d / data["droid"], (d / data["container"]) if data.get("container") else None
    return fido_signature_files()


def _cache_dir(home: Path | None) -> Path:
    if home is not None:
        return formats_dir(home) / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "magazin" / "formats"


def load_signature_set(
    droid: Path, container: Path | None, home: Path | None = None
) -> SignatureSet:
    """The parsed signature set, from the cache if these exact files were read before."""
    from ... import __version__

    code = "|".join(
        file_digest(Path(__file__).with_name(m), "sha256") for m in ("signatures.py", "pattern.py")
    )
    key = hashlib.sha256(
        f"{CACHE_FORMAT}|{__version__}|{code}|{file_digest(droid, 'sha256')}|"
        f"{file_digest(container, 'sha256') if container else ''}".encode()
    ).hexdigest()[:32]
    cache = _cache_dir(home) / f"{key}.pickle"
    try:
        with open(cache, "rb") as f:
            data = pickle.load(f)
        if isinstance(data, SignatureSet):
            return data
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    sigset = read_signature_files(droid, container)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(sigset, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cache)
    except OSError:
        pass  # a read-only cache only costs time
    return sigset


def install(home: Path, droid: Path, container: Path | None) -> SignatureSet:
    """Check and install signature files as the ones in use (the container file is kept
    if none is given)."""
    _, old_container = current_files(home)
    container = container or old_container
    # refuses bad files before anything changes; the cache is keyed by content, so this
    # parse also serves the installed copies
    sigset = load_signature_set(droid, container, home)
    d = formats_dir(home) / "signatures"
    d.mkdir(parents=True, exist_ok=True)
    names = {}
    for kind, src in (("droid", droid), ("container", container)):
        if src is None:
            continue
        target = d / src.name
        if src.resolve() != target.resolve():
            tmp = target.with_name(target.name + ".tmp")
            shutil.copyfile(src, tmp)
            os.replace(tmp, target)
        names[kind] = target.name
    cur = formats_dir(home) / "current.json"
    tmp = cur.with_name("current.json.tmp")
    tmp.write_text(
        json.dumps({**names, "label": sigset.label, "sha256": sigset.sources}, indent=2),
        encoding="utf-8",
    )
    os.replace(tmp, cur)
    return sigset
