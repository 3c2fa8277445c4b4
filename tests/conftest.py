"""Shared test fixtures: a fresh MAGAZIN_HOME per test, the CLI in-process, ../shared."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

from magazin.core.config import init_home

REPO = Path(__file__).resolve().parent.parent


def shared_fixtures() -> Path | None:
    p = Path(os.environ.get("MAGAZIN_FIXTURES") or REPO.parent / "shared" / "fixtures")
    return p if p.is_dir() else None


@pytest.fixture
def fixtures() -> Path:
    p = shared_fixtures()
    if p is None:
        pytest.skip("../shared/fixtures not present (set MAGAZIN_FIXTURES to its path)")
    return p


@pytest.fixture
def home(tmp_path, monkeypatch):
    h = tmp_path / "home"
    monkeypatch.setenv("MAGAZIN_HOME", str(h))
    monkeypatch.setenv("MAGAZIN_USER", "tester")
    return init_home(h)


class CLI:
    """Run `magazin …` in-process against the test database; returns (exit code, output)."""

    def __init__(self, capsys):
        self.capsys = capsys

    def __call__(self, *argv: str, stdin: str | None = None) -> tuple[int, str, str]:
        import io
        import sys

        from magazin.cli import main

        self.capsys.readouterr()
        saved = sys.stdin
        if stdin is not None:
            sys.stdin = io.StringIO(stdin)
        try:
            code = main([str(a) for a in argv])
        except SystemExit as e:
            code = e.code
        finally:
            sys.stdin = saved
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *argv: str, expect: int = 0):
        code, out, err = self(*argv, "--json")
        assert code == expect, f"exit {code} (expected {expect}): {err}\n{out}"
        return json.loads(out)


@pytest.fixture
def cli(home, capsys, db):
    return CLI(capsys)


@pytest.fixture
def archive(cli):
    """A tenant `stadt` with the fonds `OB-Reden`."""
    cli.json("tenant", "create", "stadt", "--name", "Stadtarchiv Magdeburg")
    cli.json("fonds", "create", "stadt", "OB-Reden", "--title", "Oberbürgermeister, Reden")
    return cli


PASSWORD = "Gutes-Passwort-2026"


def make_user(cli, name: str, tenant: str, role: str) -> dict:
    """`magazin user create` with the test password and a token: its JSON (incl. "token")."""
    code, out, err = cli(
        "user", "create", name, "--tenant", tenant, "--role", role,
        "--password-stdin", "--token", "--json", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0, err
    return json.loads(out)


def write_tree(root: Path, files: dict[str, bytes | str]) -> Path:
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
    return root


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file below `path` with its bytes (to prove that nothing changed)."""
    if not path.exists():
        return {}
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


def storage_objects(home) -> list[Path]:
    out = []
    for loc in home.locations:
        out += [p.parent for p in (loc.path / "roots").rglob("0=ocfl_object_1.1")]
    return out


def magazin_command() -> list[str]:
    """The installed `magazin` command (on PATH after the README's set-up), else the module."""
    import shutil
    import sys

    exe = shutil.which("magazin")
    return [exe] if exe else [sys.executable, "-m", "magazin.cli"]


def run(env, *args, check=0, timeout=300):
    """`magazin ARGS` in its own process; asserts the exit code."""
    import subprocess

    r = subprocess.run(
        magazin_command() + [str(a) for a in args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert r.returncode == check, (args, r.returncode, r.stdout, r.stderr)
    return r


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (no except Exception catches it)."""


def kill_on(monkeypatch, target, name: str, n: int) -> None:
    """The n-th call of target.name dies as if the process were killed at that moment."""
    calls = {"n": 0}
    orig = getattr(target, name)

    def wrapper(*a, **kw):
        calls["n"] += 1
        if calls["n"] == n:
            raise Killed()
        return orig(*a, **kw)

    monkeypatch.setattr(target, name, wrapper)


def ocfl_root_validate(root: Path) -> str:
    """What ocfl-py's validator says of a storage root (objects, with digests)."""
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("ocfl-root.py")
    cmd = [str(exe)] if exe.exists() else ["ocfl-root.py"]
    r = subprocess.run(
        cmd + ["validate", "--root", str(root), "--validate-objects", "--check-digests"],
        capture_output=True,
        text=True,
    )
    return r.stdout + r.stderr


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def blank_env(tmp_path):
    """Environment for running `magazin` in its own process: a data folder that does not exist
    yet and, on the PostgreSQL run, a fresh database of its own."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    e["MAGAZIN_HOME"] = str(tmp_path / "data")
    e["MAGAZIN_USER"] = "archivarin"
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield e
        return
    import psycopg

    name = f"magazin_cli_{uuid.uuid4().hex[:12]}"
    base, _, _ = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    e["DATABASE_URL"] = f"{base}/{name}"
    yield e
    with psycopg.connect(f"{base}/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def env(blank_env):
    """As blank_env, with the archive created (`magazin init`)."""
    run(blank_env, "init")
    return blank_env


# -- the second pass (PostgreSQL) runs only what touches the database --------------------------

DATABASE_FIXTURES = {"db", "transactional_db", "django_db_setup", "env", "blank_env", "cli",
                     "archive", "home"}  # fmt: skip


def pytest_collection_modifyitems(config, items):
    """`make test` runs the suite on SQLite, then on PostgreSQL. The second pass skips what
    does not touch the database (format identification, SIP and XML checks, the catalogue)
    and what is marked `once` (the browser walk: the pages are the same on both)."""
    if not os.environ.get("DATABASE_URL"):
        return
    no_db = pytest.mark.skip(reason="runs on the SQLite pass only (no database involved)")
    once = pytest.mark.skip(reason="runs on the SQLite pass only (marked once)")
    for item in items:
        uses_db = DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("once"):
            item.add_marker(once)
        elif not (uses_db or item.get_closest_marker("django_db")):
            item.add_marker(no_db)


# -- S3 (Ceph's RADOS Gateway, started by scripts/ceph.sh) ---------------------------------


def s3_endpoint() -> str | None:
    return os.environ.get("MAGAZIN_S3_ENDPOINT")


def write_locations(home_path: Path, locations: list[dict], replication: list[str]) -> None:
    """Replace the [[locations]] and [replication] of an archive's magazin.toml."""
    import tomllib

    toml = home_path / "magazin.toml"
    data = tomllib.loads(toml.read_text("utf-8"))
    lines = []
    for loc in locations:
        lines.append("[[locations]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in loc.items()]
        lines.append("")
    lines += ["[replication]", f"locations = {json.dumps(replication)}", ""]
    for section, values in data.items():
        if section in ("locations", "replication"):
            continue
        lines.append(f"[{section}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
        lines.append("")
    toml.write_text("\n".join(lines), "utf-8")


def s3_location(name: str = "ceph-1", **extra) -> dict:
    """A [[locations]] entry for a fresh bucket on the test gateway."""
    return {"name": name, "type": "s3", "endpoint": s3_endpoint(),
            "bucket": f"mz-{uuid.uuid4().hex[:16]}", "prefix": "archiv", **extra}  # fmt: skip


@pytest.fixture
def s3(home):
    """The test gateway (skips where there is none)."""
    if not s3_endpoint():
        pytest.skip(
            "no S3 server: `make test` starts Ceph's RADOS Gateway (scripts/ceph.sh); "
            "or set MAGAZIN_S3_ENDPOINT and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        )
    return Gateway()


class Gateway:
    """The RADOS Gateway of scripts/ceph.sh: stopped and started for the fault tests."""

    def __init__(self):
        self.conf = os.environ.get("CEPH_CONF")
        self.dir = Path(os.environ["CEPH_DIR"]) if os.environ.get("CEPH_DIR") else None

    def client(self, endpoint: str | None = None):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=endpoint or s3_endpoint(),
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def _pid(self) -> int | None:
        try:
            return int((self.dir / "run" / "client.rgw.pid").read_text())
        except (OSError, ValueError, TypeError):
            return None

    def stop(self) -> None:
        import signal
        import time

        if self.dir is None:
            pytest.skip("the gateway was not started by scripts/ceph.sh (CEPH_DIR unset)")
        pid = self._pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def start(self) -> None:
        import subprocess
        import time
        import urllib.request

        subprocess.run(["radosgw", "-c", self.conf, "-n", "client.rgw"], check=True)
        for _ in range(300):
            try:
                urllib.request.urlopen(s3_endpoint(), timeout=1)
                return
            except urllib.error.HTTPError:
                return  # it answers (403 without credentials)
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the gateway did not come back")


# five speeches of OB-Reden: open (1960), under the general period (2014), about a person who
# died in 2020, secret (1970), undated - what each may show differs (tests/test_ead.py,
# tests/test_oai.py)
SPEECHES = (
    "Datei;Titel;Datum;Signatur;Personenbezug;Sterbedatum;Verschlusssache;Beschreibung\n"
    "alt.txt;Rede zur Brücke 1960;1960;OB-R-1;;;;Eröffnung der Strombrücke\n"
    "neu.txt;Haushaltsrede 2014;2014;OB-R-2;;;;\n"
    "person.txt;Rede über Müller;1980;OB-R-3;ja;2020-01-01;;\n"
    "geheim.txt;Geheime Rede;1970;OB-R-4;;;ja;\n"
    "ohne.txt;Rede ohne Datum;;OB-R-5;;;;\n"
)


@pytest.fixture
def speeches(archive, tmp_path):
    cli = archive
    names = ("alt.txt", "neu.txt", "person.txt", "geheim.txt", "ohne.txt")
    sip = write_tree(tmp_path / "speeches", {n: f"Text von {n}" for n in names})
    (tmp_path / "speeches.csv").write_text(SPEECHES, "utf-8")
    r = cli.json("ingest", sip, "--metadata", tmp_path / "speeches.csv")
    assert len(r["aips"]) == 5
    return cli
