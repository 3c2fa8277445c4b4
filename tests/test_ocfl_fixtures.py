"""Magazin's own OCFL reader accepts every good and warn object of the OCFL fixtures and
refuses every bad one (official fixtures 1.0 and 1.1, and ocfl-py's extra ones)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from magazin.core.storage.validate import validate_object

from .conftest import shared_fixtures

BASE = (shared_fixtures() or Path("/nonexistent")) / "ocfl"


def _objects(kind: str):
    out = []
    for group in ("official/1.0", "official/1.1", "ocfl-py-extra/1.0", "ocfl-py-extra/1.1"):
        for p in sorted((BASE / group / kind).glob("*")):
            out.append(pytest.param(p, id=f"{group}/{kind}/{p.name}"))
    return out or [pytest.param(None, id="fixtures-missing")]


def _open(p: Path | None, tmp_path: Path) -> Path:
    if p is None:
        pytest.skip("../shared/fixtures/ocfl not present")
    if p.suffix == ".zip":
        target = tmp_path / p.stem
        with zipfile.ZipFile(p) as zf:
            names = zf.namelist()
            if all(n.startswith(p.stem + "/") for n in names):
                target = tmp_path
            zf.extractall(target)
        return tmp_path / p.stem
    return p


@pytest.mark.parametrize("obj", _objects("good-objects"))
def test_good_objects_are_valid_without_warnings(obj, tmp_path):
    valid, errors, warnings = validate_object(_open(obj, tmp_path))
    assert valid, errors
    assert obj.name.startswith("root_ext0003") or not warnings, warnings


@pytest.mark.parametrize("obj", _objects("warn-objects"))
def test_warn_objects_are_valid_with_the_named_warnings(obj, tmp_path):
    valid, errors, warnings = validate_object(_open(obj, tmp_path))
    assert valid, errors
    codes = {w.split(":")[0] for w in warnings}
    expected = {c for c in obj.name.split("_") if len(c) == 4 and c[0] == "W"}
    assert expected <= codes, (expected, warnings)


@pytest.mark.parametrize("obj", _objects("bad-objects"))
def test_bad_objects_are_refused(obj, tmp_path):
    valid, errors, _ = validate_object(_open(obj, tmp_path))
    assert not valid and errors
