"""Users, roles, login, and tenant isolation for every page and API endpoint (issue 5, first
part): a user of another tenant who knows an AID or file path gets 404, never data."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from .conftest import make_user, write_tree


@pytest.fixture
def two_tenants(archive, tmp_path, monkeypatch):
    """stadt (with an AIP of two files) and land (with one of its own), a user of each."""
    cli = archive
    cli.json("tenant", "create", "land", "--name", "Landesarchiv")
    cli.json("fonds", "create", "land", "Akten", "--title", "Akten")
    a = cli.json("ingest", write_tree(tmp_path / "a", {"rede.txt": "Rede 2014", "x/b.txt": "B"}),
                 "--tenant", "stadt", "--fonds", "OB-Reden")["aips"][0]["aid"]  # fmt: skip
    b = cli.json("ingest", write_tree(tmp_path / "b", {"akte.txt": "Akte"}),
                 "--tenant", "land", "--fonds", "Akten")["aips"][0]["aid"]  # fmt: skip
    users = {
        "anna": make_user(cli, "anna", "stadt", "archivist"),
        "bert": make_user(cli, "bert", "land", "archivist"),
        "olga": make_user(cli, "olga", "stadt", "operator"),
        "rita": make_user(cli, "rita", "stadt", "reader"),
    }
    return {"a": a, "b": b, "users": users}


def _api(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {token}")


def _web(username: str) -> Client:
    c = Client()
    assert c.login(username=username, password="Gutes-Passwort-2026")
    return c


def test_user_create_hashes_with_argon2_and_prints_a_token(two_tenants, cli):
    from django.contrib.auth import get_user_model

    u = get_user_model().objects.get(username="anna")
    assert u.password.startswith("argon2")
    assert len(two_tenants["users"]["anna"]["token"]) == 48
    code, _o, err = cli("user", "create", "anna", "--tenant", "stadt", "--role", "reader",
                        "--password-stdin", stdin="x\n")  # fmt: skip
    assert code == 1 and "exists" in err
    code, _o, err = cli("user", "create", "neu", "--tenant", "stadt", "--role", "reader",
                        "--password-stdin", stdin="123\n")  # fmt: skip
    assert code == 1 and "password" in err
    code, _o, _e = cli("user", "create", "neu", "--tenant", "stadt", "--role", "chef")
    assert code == 2
    code, _o, err = cli("user", "create", "neu", "--role", "reader", "--password-stdin",
                        stdin="Gutes-Passwort-2026\n")  # fmt: skip
    assert code == 2 and "--tenant" in err  # two tenants: which one?


def test_login_locks_after_repeated_failures(two_tenants):
    c = Client(enforce_csrf_checks=True)
    page = c.get("/login/")
    assert page.status_code == 200 and "Anmelden" in page.content.decode()
    token = page.cookies["csrftoken"].value
    r = c.post("/login/", {"username": "anna", "password": "Gutes-Passwort-2026"})
    assert r.status_code == 403  # no CSRF token: refused
    for _ in range(5):
        r = c.post("/login/", {"username": "anna", "password": "falsch",
                               "csrfmiddlewaretoken": token})  # fmt: skip
        assert r.status_code == 200 and "_auth_user_id" not in c.session
    r = c.post("/login/", {"username": "anna", "password": "Gutes-Passwort-2026",
                           "csrfmiddlewaretoken": token})  # fmt: skip
    assert r.status_code == 200 and "_auth_user_id" not in c.session  # locked
    assert Client().login(username="bert", password="Gutes-Passwort-2026")  # others are not


def test_pages_need_a_login_and_carry_security_headers(two_tenants):
    r = Client().get("/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    r = Client().get(f"/aip/{two_tenants['a']}/")
    assert r.status_code == 302
    r = _web("anna").get("/holdings/")
    assert r.status_code == 200 and two_tenants["a"] in r.content.decode()
    assert two_tenants["b"] not in r.content.decode()
    assert "default-src 'self'" in r["Content-Security-Policy"]
    assert r["X-Frame-Options"] == "DENY" and r["X-Content-Type-Options"] == "nosniff"
    assert Client().get("/api/units/").status_code == 401
    assert Client(HTTP_AUTHORIZATION="Token nope").get("/api/units/").status_code == 401


def test_api_units_files_and_dip(two_tenants):
    from magazin.access.models import AccessLog

    a = two_tenants["a"]
    api = _api(two_tenants["users"]["anna"]["token"])
    r = api.get("/api/units/").json()
    assert r["count"] == 1 and r["next"] is None and r["results"][0]["aid"] == a
    assert r["results"][0]["title"] and r["results"][0]["fonds"] == "OB-Reden"
    assert api.get("/api/units/?fonds=Nope").json()["count"] == 0
    assert api.get("/api/units/?q=nichtda").json()["count"] == 0
    assert api.get(f"/api/units/?parent={a}").json()["count"] == 0
    d = api.get(f"/api/units/{a}/").json()
    assert {f["path"] for f in d["files"]} == {"rede.txt", "x/b.txt"}
    assert {e["type"] for e in d["events"]} >= {"ingestion", "fixity check"}
    assert [c["status"] for c in d["copies"]] == ["ok", "ok"]
    r = api.get(f"/api/units/{a}/files/x/b.txt")
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"B"
    r = api.get(f"/api/units/{a}/dip")
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content))) as z:
        assert any(n.endswith("rede.txt") for n in z.namelist())
    assert api.get(f"/api/units/{a}/files/nicht.txt").status_code == 404
    actions = sorted(AccessLog.objects.filter(username="anna").values_list("action", flat=True))
    assert actions == ["dip", "download", "view"]
    schema = Client().get("/api/schema/")
    assert schema.status_code == 200 and b"/api/units/{aid}/" in schema.content


def _patterns(resolver=None, prefix=""):
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            yield from _patterns(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def _fill(pattern: str, aid: str) -> str:
    return "/" + pattern.replace("<str:aid>", aid).replace("<path:path>", "rede.txt").lstrip("^")


def test_every_url_with_an_aid_is_404_for_other_tenants_operators_and_closed(two_tenants):
    a = two_tenants["a"]
    with_aid = [p for p in _patterns() if "<str:aid>" in p]
    assert len(with_aid) >= 4  # the web unit page and the API's unit, files, dip
    users = two_tenants["users"]
    # the owner's archivist sees each of them
    post_only = set()  # the forms' targets (access decisions): their answer to GET is 405
    for pattern in with_aid:
        url = _fill(pattern, a)
        owner = _web("anna") if not url.startswith("/api/") else _api(users["anna"]["token"])
        status = owner.get(url).status_code
        if url.endswith("/evidence.ers") and status == 404:
            continue  # no TSA here, no record (tests/test_evidence.py has one); others: below
        assert status == 200 or (status == 405 and not url.startswith("/api/")), (url, status)
        if status == 405:
            post_only.add(url)
    # another tenant's user, the operator, and a reader of a closed unit: 404, never data
    for name in ("bert", "olga", "rita"):
        for pattern in with_aid:
            url = _fill(pattern, a)
            api = url.startswith("/api/")  # the API takes the session and tokens
            for client in (_web(name), _api(users[name]["token"])) if api else (_web(name),):
                if url in post_only:
                    r = client.post(url, {"action": "release", "reason": "Versuch"})
                else:
                    r = client.get(url)
                assert r.status_code == 404, (name, url, r.status_code)
                body = b"".join(r.streaming_content) if r.streaming else r.content
                assert b"Rede 2014" not in body and a.encode() not in body
    # lists show nothing of another tenant either
    for name in ("bert", "olga", "rita"):
        listed = _api(users[name]["token"]).get("/api/units/").json()
        assert a not in str(listed)
        for page in ("/", "/holdings/", "/fonds/OB-Reden/", "/search/?q=Rede"):
            r = _web(name).get(page)
            assert r.status_code in (200, 302, 404) and a not in r.content.decode(), (name, page)
