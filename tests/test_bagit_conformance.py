"""BagIt conformance (Library of Congress suite, all versions): valid bags are accepted,
invalid and linux-only bags rejected, warning bags accepted with a warning, except bags whose
names collide by case or Unicode normalisation, which are rejected."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from .conftest import shared_fixtures

SUITE = (shared_fixtures() or Path("/nonexistent")) / "bagit" / "conformance-suite"
COLLIDING = {
    "duplicate-file-with-different-case",
    "same-filename-listed-twice-with-different-normalization",
}


def _bags(kinds):
    if not SUITE.is_dir():
        return [pytest.param(None, id="suite-missing")]
    return [
        pytest.param(p, id=f"{p.parent.parent.name}/{p.parent.name}/{p.name}")
        for kind in kinds
        for p in sorted(SUITE.glob(f"v*/{kind}/*"))
        if p.is_dir()
    ]


def _need(bag):
    if bag is None:
        pytest.skip("../shared/fixtures/bagit/conformance-suite not present")


def _zip_bag(bag: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w") as zf:
        for p in sorted(bag.rglob("*")):
            if p.is_file():
                zf.write(p, f"{bag.name}/{p.relative_to(bag).as_posix()}")
    return out


@pytest.mark.parametrize("bag", _bags(["valid"]))
def test_valid_bags_are_accepted(archive, bag, tmp_path):
    _need(bag)
    r = archive.json("ingest", bag)
    assert r["status"] == "stored", r
    show = archive.json("aip", "show", r["aips"][0]["aid"])
    payload = sorted(
        p.relative_to(bag / "data").as_posix() for p in (bag / "data").rglob("*") if p.is_file()
    )
    assert sorted(f["path"] for f in show["files"]) == payload


@pytest.mark.parametrize("bag", _bags(["valid"]))
def test_valid_bags_are_accepted_as_zip(archive, bag, tmp_path):
    _need(bag)
    r = archive.json("ingest", _zip_bag(bag, tmp_path / f"{bag.name}.zip"))
    assert r["status"] == "stored", r


@pytest.mark.parametrize("bag", _bags(["invalid", "linux-only"]))
def test_invalid_bags_are_rejected(archive, bag, tmp_path):
    _need(bag)
    r = archive.json("ingest", bag, expect=1)
    assert r["status"] == "rejected" and r["errors"]
    assert all(e["path"] and e["reason"] and e["code"] for e in r["errors"])
    rz = archive.json("ingest", _zip_bag(bag, tmp_path / "b.zip"), expect=1)
    assert rz["status"] == "rejected"


@pytest.mark.parametrize("bag", _bags(["warning"]))
def test_warning_bags(archive, bag):
    _need(bag)
    if bag.name in COLLIDING:
        r = archive.json("ingest", bag, expect=1)
        assert "name-collision" in {e["code"] for e in r["errors"]}
    else:
        r = archive.json("ingest", bag)
        assert r["status"] == "stored" and r["warnings"], r


def _suite_bag(rel: str, target: Path) -> Path:
    """A writable copy of one bag of the suite."""
    src = SUITE / rel
    if not src.is_dir():
        pytest.skip("../shared/fixtures/bagit/conformance-suite not present")
    shutil.copytree(src, target)
    return target


def test_wrong_checksum_in_a_bag_rejects_it(archive, home, tmp_path):
    bag = _suite_bag("v1.0/valid/basicBag", tmp_path / "bag")
    f = next(p for p in (bag / "data").rglob("*") if p.is_file())
    f.write_bytes(f.read_bytes() + b"!")
    r = archive.json("ingest", bag, expect=1)
    assert any(e["code"] in ("checksum-mismatch", "bad-bag") for e in r["errors"])
    # same size, other bytes: only the digest compared during the copy can tell
    data = bytearray(f.read_bytes()[:-1])
    data[0] ^= 0x01
    f.write_bytes(bytes(data))
    r = archive.json("ingest", bag, expect=1)
    assert {e["code"] for e in r["errors"]} == {"checksum-mismatch"}


def test_fetch_txt_naming_absent_files_is_rejected(archive, home, tmp_path):
    bag = _suite_bag("v0.97/valid/holey-bag", tmp_path / "holey")
    (bag / "data" / "dir2" / "test4.txt").unlink()
    r = archive.json("ingest", bag, expect=1)
    assert ("data/dir2/test4.txt", "fetch-not-present") in {
        (e["path"], e["code"]) for e in r["errors"]
    }
    assert "never fetches" in r["errors"][0]["reason"]


def test_bag_made_by_bagit_python_is_accepted_with_its_declared_digests(archive, fixtures):
    bag = fixtures / "bagit" / "generated" / "bagit-python-sample-bag"
    r = archive.json("ingest", bag)
    assert r["status"] == "stored" and r["aips"][0]["files"] == 2
    show = archive.json("aip", "show", r["aips"][0]["aid"])
    manifest = (bag / "manifest-sha512.txt").read_text().split("\n")
    declared = {
        ln.split(None, 1)[1].removeprefix("data/"): ln.split()[0] for ln in manifest if ln.strip()
    }
    assert {f["path"]: f["sha512"] for f in show["files"]} == declared
    assert {f["puid"] for f in show["files"]} <= {"fmt/43", "fmt/44", "fmt/645"}
    details = " ".join(e["detail"] for e in show["events"] if e["type"] == "fixity check")
    assert "sha256" in details and "sha512" in details
