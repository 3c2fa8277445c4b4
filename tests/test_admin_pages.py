"""The tenant admin's user management and the operator's storage-health page."""

from __future__ import annotations

import re

from .conftest import PASSWORD, make_user, write_tree


def test_tenant_admin_manages_the_users_of_his_tenant(archive, client):
    archive.json("tenant", "create", "land", "--name", "Landesarchiv")
    make_user(archive, "ada", "stadt", "admin")
    make_user(archive, "rita", "stadt", "reader")
    make_user(archive, "bob", "land", "archivist")
    make_user(archive, "olaf", "stadt", "operator")
    assert client.login(username="ada", password=PASSWORD)
    page = client.get("/users/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "rita" in page and "ada" in page and "bob" not in page  # own tenant only
    assert "Benutzer anlegen" in page
    # create
    new = {"action": "create", "username": "carl", "role": "archivist",
           "password": PASSWORD, "password2": PASSWORD}  # fmt: skip
    assert client.post("/users/", new).status_code == 302
    carl = type(client)()
    assert carl.login(username="carl", password=PASSWORD)
    assert carl.get("/ingest/").status_code == 200  # an archivist now
    # refused: operator role, weak password, mismatch, existing name
    for bad, msg in [
        ({**new, "username": "x1", "role": "operator"}, "use one of admin, archivist, reader"),
        ({**new, "username": "x2", "password": "kurz", "password2": "kurz"}, "password"),
        ({**new, "username": "x3", "password2": "anders-als-oben-2026"}, "differ"),
        ({**new}, "exists already"),
    ]:
        client.post("/users/", bad, HTTP_ACCEPT_LANGUAGE="en")
        assert msg in client.get("/users/", HTTP_ACCEPT_LANGUAGE="en").content.decode(), msg
    assert not type(client)().login(username="x1", password=PASSWORD)
    # change role, deactivate, new password
    client.post("/users/", {"action": "save", "username": "carl", "role": "reader"})
    assert carl.get("/ingest/").status_code == 404  # a reader now
    client.post("/users/", {"action": "deactivate", "username": "carl"})
    assert not type(client)().login(username="carl", password=PASSWORD)
    client.post("/users/", {"action": "activate", "username": "carl"})
    client.post(
        "/users/", {"action": "save", "username": "carl", "password": "Neues-Passwort-2027"}
    )
    assert type(client)().login(username="carl", password="Neues-Passwort-2027")
    # not his own role or account, not other tenants' users, not operators
    client.post("/users/", {"action": "deactivate", "username": "ada"})
    client.post("/users/", {"action": "save", "username": "ada", "role": "reader"})
    client.post("/users/", {"action": "deactivate", "username": "bob"})
    client.post("/users/", {"action": "deactivate", "username": "olaf"})
    assert type(client)().login(username="ada", password=PASSWORD)
    assert type(client)().login(username="bob", password=PASSWORD)
    assert type(client)().login(username="olaf", password=PASSWORD)
    users = {u["username"]: u for u in archive.json("user", "list", "--tenant", "stadt")}
    assert users["carl"]["role"] == "reader" and users["carl"]["active"] is True
    assert users["ada"]["role"] == "admin" and "bob" not in users
    assert "x1" not in users and "x2" not in users and "x3" not in users
    # others do not get the page
    for name in ("rita", "carl", "olaf", "bob"):
        c = type(client)()
        c.login(username=name, password=PASSWORD if name != "carl" else "Neues-Passwort-2027")
        assert c.get("/users/").status_code == 404, name
        assert c.post("/users/", {**new, "username": "y"}).status_code == 404, name


def test_operator_sees_storage_health_of_all_tenants_but_no_content(archive, client, tmp_path):
    archive.json("tenant", "create", "land", "--name", "Landesarchiv")
    archive.json("fonds", "create", "land", "L1", "--title", "L1")
    sip = write_tree(tmp_path / "a", {"geheim-titel.txt": "Inhalt"})
    aid = archive.json("ingest", sip, "--tenant", "stadt", "--fonds", "OB-Reden")["aips"][0]["aid"]
    archive.json("ingest", write_tree(tmp_path / "b", {"b.txt": "B"}), "--tenant", "land")
    archive.json("audit")
    make_user(archive, "olaf", "stadt", "operator")
    make_user(archive, "anna", "stadt", "archivist")
    assert client.login(username="olaf", password=PASSWORD)
    page = client.get("/storage/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Zustand des Speichers" in page and "local-1" in page and "local-2" in page
    assert "stadt" in page and "land" in page  # every tenant
    for loc in ("local-1", "local-2"):  # two AIPs, each with a copy here, none damaged
        row = re.search(rf"<tr><td>{loc}</td>.*?</tr>", page).group(0)
        assert re.findall(r'class="num">(\d+)<', row)[:2] == ["2", "0"], row
    assert "geheim-titel" not in page and aid not in page  # no content
    assert client.get(f"/aip/{aid}/").status_code == 404
    anna = type(client)()
    anna.login(username="anna", password=PASSWORD)
    assert anna.get("/storage/").status_code == 404
    assert "/storage/" not in anna.get("/").content.decode()
