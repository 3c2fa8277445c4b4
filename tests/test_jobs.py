"""Ingest from the web and the API: uploads become background jobs (django-tasks, database
backend) that the worker runs; progress, results, quarantine retry/discard, drop area, and
tenant isolation of jobs."""

from __future__ import annotations

import io
import threading
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from .conftest import PASSWORD, make_user, storage_objects


def _zip(files: dict[str, bytes | str], name: str = "reden.zip") -> SimpleUploadedFile:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, data in files.items():
            zf.writestr(n, data)
    return SimpleUploadedFile(name, buf.getvalue(), content_type="application/zip")


def _token_client(client_cls, token: str):
    return client_cls(HTTP_AUTHORIZATION=f"Token {token}")


@pytest.fixture
def anna(archive):
    return make_user(archive, "anna", "stadt", "archivist")


def _work(cli) -> None:
    """What `magazin worker` does in one round (the jobs first)."""
    code, _out, err = cli("worker", "--once")
    assert code == 0, err


def test_api_upload_runs_as_a_job_with_progress_and_result(archive, anna, client, home):
    api = _token_client(type(client), anna["token"])
    table = SimpleUploadedFile("liste.csv", b"Datei;Titel\na.txt;Rede A\nb.txt;Rede B\n")
    r = api.post(
        "/api/ingest/",
        {"file": _zip({"a.txt": "A", "b.txt": "B"}), "fonds": "OB-Reden", "metadata": table},
    )
    assert r.status_code == 202, r.content
    jid = r.json()["job"]
    job = api.get(f"/api/jobs/{jid}/").json()
    assert job["state"] == "queued" and job["progress"] == 0 and job["aips"] == []
    assert (home.uploads / jid).is_dir()  # kept until stored
    assert archive.json("aip", "list") == []  # nothing happens before the worker runs
    _work(archive)
    job = api.get(f"/api/jobs/{jid}/").json()
    assert job["state"] == "done" and job["progress"] == 100 and job["errors"] == []
    assert sorted(a["status"] for a in job["aips"]) == ["stored", "stored"]
    assert job["user"] == "anna" and job["fonds"] == "OB-Reden"
    titles = sorted(u["title"] for u in api.get("/api/units/?fonds=OB-Reden").json()["results"])
    assert titles == ["Rede A", "Rede B"]
    assert not (home.uploads / jid).exists()  # the AIPs hold it now
    assert [j["job"] for j in api.get("/api/jobs/").json()["results"]] == [jid]
    # the ingestion event names the uploading archivist
    aid = job["aips"][0]["aid"]
    events = api.get(f"/api/units/{aid}/events/").json()
    assert any(e["type"] == "ingestion" and "anna" in str(e) for e in events)
    # the same upload again: a duplicate, nothing stored twice
    table = SimpleUploadedFile("l.csv", b"Datei;Titel\na.txt;Rede A\nb.txt;Rede B\n")
    r = api.post("/api/ingest/", {"file": _zip({"a.txt": "A", "b.txt": "B"}), "metadata": table})
    _work(archive)
    again = api.get(f"/api/jobs/{r.json()['job']}/").json()
    assert again["state"] == "done" and {a["status"] for a in again["aips"]} == {"duplicate"}


def test_bad_upload_is_rejected_into_quarantine_then_retried_and_discarded(
    archive, anna, client, home
):
    api = _token_client(type(client), anna["token"])
    table = SimpleUploadedFile("liste.csv", b"Datei;Titel\na.txt;A\n")
    r = api.post("/api/ingest/", {"file": _zip({"a.txt": "A", "b.txt": "B"}), "metadata": table})
    jid = r.json()["job"]
    before = storage_objects(home)
    _work(archive)
    job = api.get(f"/api/jobs/{jid}/").json()
    assert job["state"] == "rejected" and job["aips"] == []
    assert job["errors"] == [
        {"path": "b.txt", "reason": job["errors"][0]["reason"], "code": "unlisted-file"}
    ]
    assert storage_objects(home) == before  # nothing stored
    qid = job["quarantine"]
    assert (home.uploads / jid).is_dir()  # kept for a retry
    # the web: quarantine list, report, retry as a job (still refused: the table is the same)
    assert client.login(username="anna", password=PASSWORD)
    assert qid in client.get("/quarantine/").content.decode()
    page = client.get(f"/quarantine/{qid}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "b.txt" in page and "unlisted-file" in page and "Verwerfen" in page
    r = client.post(f"/quarantine/{qid}/", {"retry": "1"})
    assert r.status_code == 302 and r["Location"].startswith("/ingest/jobs/")
    retry_jid = r["Location"].rstrip("/").rsplit("/", 1)[1]
    _work(archive)
    retried = api.get(f"/api/jobs/{retry_jid}/").json()
    assert retried["state"] == "rejected" and retried["kind"] == "retry"
    assert archive.json("quarantine", "show", qid)["status"] == "open"
    # discard: the record stays, with who and why; the upload is removed
    r = client.post(f"/quarantine/{qid}/", {"discard": "1", "reason": "falsche Lieferung"})
    assert r.status_code == 302
    shown = archive.json("quarantine", "show", qid)
    assert shown["status"] == "discarded" and shown["note"] == "falsche Lieferung"
    assert shown["resolved_by"] == "anna"
    assert not (home.uploads / jid).exists()
    assert qid not in client.get("/quarantine/").content.decode()
    assert qid in client.get("/quarantine/?all=1").content.decode()
    # a closed entry cannot be retried
    client.post(f"/quarantine/{qid}/", {"retry": "1"})
    assert archive.json("quarantine", "show", qid)["status"] == "discarded"


def test_retry_from_the_web_ingests_after_the_table_was_corrected(archive, anna, client, home):
    api = _token_client(type(client), anna["token"])
    r = api.post("/api/ingest/", {"file": _zip({"a.txt": "A", "b.txt": "B"}), "metadata":
                 SimpleUploadedFile("liste.csv", b"Datei;Titel\na.txt;A\n")})  # fmt: skip
    jid = r.json()["job"]
    _work(archive)
    qid = api.get(f"/api/jobs/{jid}/").json()["quarantine"]
    (home.uploads / jid / "table" / "liste.csv").write_text("Datei;Titel\na.txt;A\nb.txt;B\n")
    assert client.login(username="anna", password=PASSWORD)
    retry_jid = client.post(f"/quarantine/{qid}/", {"retry": "1"})["Location"].split("/")[-2]
    _work(archive)
    done = api.get(f"/api/jobs/{retry_jid}/").json()
    assert done["state"] == "done" and len(done["aips"]) == 2, done
    shown = archive.json("quarantine", "show", qid)
    assert shown["status"] == "retried" and shown["resolved_by"] == "anna"
    assert not (home.uploads / jid).exists()
    page = client.get(f"/ingest/jobs/{retry_jid}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "fertig" in page and done["aips"][0]["aid"] in page


def test_bad_requests_get_400_and_leave_nothing(archive, anna, client, home):
    api = _token_client(type(client), anna["token"])
    r = api.post("/api/ingest/", {"fonds": "OB-Reden"})
    assert r.status_code == 400 and "file" in r.json()["detail"]
    r = api.post("/api/ingest/", {"file": _zip({"a.txt": "A"}), "fonds": "Nope"})
    assert r.status_code == 400 and "Nope" in r.json()["detail"]
    r = api.post("/api/ingest/", {"file": _zip({"a.txt": "A"}), "metadata":
                 SimpleUploadedFile("liste.txt", b"x")})  # fmt: skip
    assert r.status_code == 400 and "liste.txt" in r.json()["detail"]
    r = api.post("/api/ingest/", {"file": _zip({"a.txt": "A"}), "agency": "XX"})
    assert r.status_code == 400 and "XX" in r.json()["detail"]
    assert not home.uploads.exists() or not any(home.uploads.iterdir())
    assert api.get("/api/jobs/").json()["count"] == 0
    assert api.get("/api/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/").status_code == 404


def test_upload_name_cannot_escape_the_upload_folder(archive, anna, client, home, tmp_path):
    api = _token_client(type(client), anna["token"])
    evil = _zip({"a.txt": "A"}, name="../../../evil.zip")
    jid = api.post("/api/ingest/", {"file": evil}).json()["job"]
    assert (home.uploads / jid / "sip" / "evil.zip").is_file()
    assert not (tmp_path / "evil.zip").exists()
    # a container with path traversal inside is refused by the ingest, with the entry named
    bad = _zip({"../../x.txt": "X"}, name="bad.zip")
    jid2 = api.post("/api/ingest/", {"file": bad}).json()["job"]
    _work(archive)
    job = api.get(f"/api/jobs/{jid2}/").json()
    assert job["state"] == "rejected" and "../../x.txt" in str(job["errors"])


def test_jobs_and_ingest_are_isolated_by_tenant_and_role(archive, anna, client, home):
    archive.json("tenant", "create", "land", "--name", "Landesarchiv")
    archive.json("fonds", "create", "land", "L1", "--title", "L1")
    bob = make_user(archive, "bob", "land", "archivist")
    rita = make_user(archive, "rita", "stadt", "reader")
    op = make_user(archive, "olaf", "stadt", "operator")
    a = _token_client(type(client), anna["token"])
    jid = a.post("/api/ingest/", {"file": _zip({"a.txt": "A"})}).json()["job"]
    _work(archive)
    qjid = a.post("/api/ingest/", {"file": _zip({"../b": "B"}, "b.zip")}).json()["job"]
    _work(archive)
    qid = a.get(f"/api/jobs/{qjid}/").json()["quarantine"]
    for who in (bob, rita, op):
        other = _token_client(type(client), who["token"])
        assert other.get(f"/api/jobs/{jid}/").status_code == 404
        assert other.get("/api/jobs/").json()["count"] == 0
    for who in (rita, op):
        other = _token_client(type(client), who["token"])
        assert other.post("/api/ingest/", {"file": _zip({"c.txt": "C"})}).status_code == 403
    # web pages: bob (other tenant) gets 404 for anna's job and quarantine entry
    assert client.login(username="bob", password=PASSWORD)
    assert client.get(f"/ingest/jobs/{jid}/").status_code == 404
    assert client.get(f"/quarantine/{qid}/").status_code == 404
    assert client.post(f"/quarantine/{qid}/", {"discard": "1", "reason": "x"}).status_code == 404
    assert qid not in client.get("/quarantine/").content.decode()
    assert jid not in client.get("/ingest/").content.decode()
    assert archive.json("quarantine", "show", qid)["status"] == "open"
    client.logout()
    assert client.login(username="rita", password=PASSWORD)
    for url in ("/ingest/", f"/ingest/jobs/{jid}/", "/quarantine/", f"/quarantine/{qid}/"):
        assert client.get(url).status_code == 404, url
    # unauthenticated
    anon = type(client)()
    assert anon.post("/api/ingest/", {"file": _zip({"c.txt": "C"})}).status_code in (401, 403)
    assert anon.get(f"/api/jobs/{jid}/").status_code in (401, 403)


def test_web_ingest_form_upload_and_drop_area(archive, anna, client, home):
    assert client.login(username="anna", password=PASSWORD)
    page = client.get("/ingest/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Container hochladen" in page and "Ablagebereich ist leer" in page
    r = client.post(
        "/ingest/", {"mode": "upload", "fonds": "OB-Reden", "file": _zip({"rede.txt": "R"})}
    )
    assert r.status_code == 302
    jid = r["Location"].split("/")[-2]
    page = client.get(f"/ingest/jobs/{jid}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "wartet" in page and 'id="job-progress"' in page and "/static/web/job.js" in page
    assert client.get("/static/web/job.js").status_code == 200
    _work(archive)
    page = client.get(f"/ingest/jobs/{jid}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "fertig" in page and "gespeichert" in page
    # the drop area: a folder and a table placed on the server
    drop = home.drop_folder("stadt")
    (drop / "Lieferung 7").mkdir(parents=True)
    (drop / "Lieferung 7" / "x.txt").write_text("X")
    (drop / "liste.csv").write_text("Datei;Titel\nx.txt;Aus dem Ablagebereich\n")
    (drop / ".hidden").mkdir()
    page = client.get("/ingest/").content.decode()
    assert "Lieferung 7" in page and "liste.csv" in page and ".hidden" not in page
    r = client.post("/ingest/", {"mode": "drop", "folder": "Lieferung 7", "fonds": "OB-Reden",
                                 "table": "liste.csv"})  # fmt: skip
    djid = r["Location"].split("/")[-2]
    _work(archive)
    job = client.get(f"/api/jobs/{djid}/").json()
    assert job["state"] == "done", job
    assert (drop / "Lieferung 7" / "x.txt").exists()  # the drop area is left as it was
    titles = [u["title"] for u in archive.json("aip", "list")]
    assert "Aus dem Ablagebereich" in titles
    # only names the drop area lists are accepted
    for bad in ("../Lieferung 7", "/etc", ".hidden", "nope"):
        r = client.post("/ingest/", {"mode": "drop", "folder": bad, "fonds": "OB-Reden"},
                        HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
        assert r["Location"] == "/ingest/"
        msgs = client.get("/ingest/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "is not in the drop area" in msgs
    assert len(client.get("/api/jobs/").json()["results"]) == 2


def test_drop_area_symlink_is_not_offered(archive, anna, client, home, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("S")
    drop = home.drop_folder("stadt")
    drop.mkdir(parents=True)
    (drop / "link").symlink_to(outside)
    assert client.login(username="anna", password=PASSWORD)
    assert "<option>link</option>" not in client.get("/ingest/").content.decode()
    r = client.post("/ingest/", {"mode": "drop", "folder": "link", "fonds": "OB-Reden"})
    assert r["Location"] == "/ingest/"
    assert client.get("/api/jobs/").json()["count"] == 0


@pytest.mark.django_db(transaction=True)
def test_progress_is_written_while_the_job_runs(home, capsys):
    """The heartbeat writes the counts of the ingest's threads to the job row (visible to
    the web processes) while the job runs."""
    from django.utils import timezone

    from magazin.catalog.models import Tenant
    from magazin.ingest.jobs import JobProgress, _new_job
    from magazin.ingest.models import IngestJob

    tenant = Tenant.objects.create(slug="stadt", name="Stadt", created=timezone.now())
    job = _new_job(tenant, "anna", name="x.zip", sip_path="/x", state=IngestJob.RUNNING)
    job.save()
    with JobProgress(job, interval=0.05) as p:
        p.start(1000, "copy")
        threads = [threading.Thread(target=p.advance, args=(250,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert p.percent() == 22  # half of the copy phase (45 %)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            row = IngestJob.objects.get(pk=job.pk)
            if row.progress == 22:
                break
            time.sleep(0.05)
        assert (row.phase, row.done, row.total, row.progress) == ("copy", 500, 1000, 22)
        p.start(10, "store")
        p.done()
        assert p.percent() == 99  # 100 only when the job has finished


def test_a_job_whose_worker_died_is_queued_again_and_then_runs(archive, anna, client, home):
    import os
    import subprocess

    from django_tasks_db.models import DBTaskResult

    from magazin.ingest.jobs import MAX_ATTEMPTS, recover_abandoned
    from magazin.ingest.models import IngestJob

    api = _token_client(type(client), anna["token"])
    jid = api.post("/api/ingest/", {"file": _zip({"a.txt": "A"})}).json()["job"]
    dead = subprocess.Popen(["true"])
    dead.wait()
    # as if a worker had claimed the task and died in the middle of the job
    task = DBTaskResult.objects.get(id=IngestJob.objects.get(jid=jid).task_id)
    task.claim(f"magazin-{os.uname().nodename}-{dead.pid}")
    IngestJob.objects.filter(jid=jid).update(state="running")
    assert recover_abandoned() == [jid]
    assert api.get(f"/api/jobs/{jid}/").json()["state"] == "queued"
    _work(archive)
    job = api.get(f"/api/jobs/{jid}/").json()
    assert job["state"] == "done" and job["aips"][0]["status"] == "stored"
    assert recover_abandoned() == []  # nothing else to do
    # a live worker's task is left alone
    jid2 = api.post("/api/ingest/", {"file": _zip({"b.txt": "B"})}).json()["job"]
    task = DBTaskResult.objects.get(id=IngestJob.objects.get(jid=jid2).task_id)
    task.claim(f"magazin-{os.uname().nodename}-{os.getpid()}")
    IngestJob.objects.filter(jid=jid2).update(state="running")
    assert recover_abandoned() == []
    # after MAX_ATTEMPTS the job fails with a reason
    IngestJob.objects.filter(jid=jid2).update(options={"attempts": MAX_ATTEMPTS})
    task.worker_ids = [f"magazin-{os.uname().nodename}-{dead.pid}"]
    task.save()
    assert recover_abandoned() == [jid2]
    failed = api.get(f"/api/jobs/{jid2}/").json()
    assert failed["state"] == "failed" and "worker ended" in failed["errors"][0]["reason"]


def test_every_url_with_a_job_or_quarantine_id_is_404_for_other_tenants(
    archive, anna, client, home
):
    """Generic over the URL patterns: each one with a job id or quarantine id answers the
    owner's archivist and gives 404 to a user of another tenant, a reader and an operator.
    Every URL parameter is one of the kinds these tests cover."""
    import re

    from .test_access import _patterns

    # accession numbers: tests/test_roles.py; a tenant's public OAI-PMH endpoint (no login,
    # 404 unless its admin switched it on): tests/test_oai.py
    known = {"aid", "path", "jid", "qid", "code", "process_id", "number", "tenant"}
    params = {m for p in _patterns() for m in re.findall(r"<(?:\w+:)?(\w+)>", p)}
    assert params <= known, params - known
    archive.json("tenant", "create", "land", "--name", "Land")
    others = [make_user(archive, n, t, r) for n, t, r in
              (("bob", "land", "archivist"), ("rita", "stadt", "reader"),
               ("olaf", "stadt", "operator"))]  # fmt: skip
    api = _token_client(type(client), anna["token"])
    jid = api.post("/api/ingest/", {"file": _zip({"../x": "X"}, "x.zip")}).json()["job"]
    _work(archive)
    qid = api.get(f"/api/jobs/{jid}/").json()["quarantine"]
    assert qid
    with_ids = [p for p in _patterns() if "<str:jid>" in p or "<str:qid>" in p]
    assert len(with_ids) >= 3  # the job page, the API's job, the quarantine entry

    def url(p: str) -> str:
        return "/" + p.replace("<str:jid>", jid).replace("<str:qid>", qid).lstrip("^")

    assert client.login(username="anna", password=PASSWORD)
    for p in with_ids:
        assert client.get(url(p)).status_code == 200, url(p)
    for who in others:
        web = type(client)()
        assert web.login(username=who["username"], password=PASSWORD)
        tok = _token_client(type(client), who["token"])
        for p in with_ids:
            for c in (web, tok) if url(p).startswith("/api/") else (web,):
                r = c.get(url(p))
                assert r.status_code == 404, (who["username"], url(p), r.status_code)
                assert jid.encode() not in r.content and b"x.zip" not in r.content


def test_cli_lists_and_shows_jobs(archive, anna, client):
    api = _token_client(type(client), anna["token"])
    jid = api.post("/api/ingest/", {"file": _zip({"a.txt": "A"})}).json()["job"]
    listed = archive.json("job", "list")
    assert [j["job"] for j in listed] == [jid] and listed[0]["state"] == "queued"
    _work(archive)
    assert archive.json("job", "show", jid) == api.get(f"/api/jobs/{jid}/").json()
    assert archive.json("job", "list", "--state", "queued") == []
    assert archive.json("job", "list", "--tenant", "stadt", "--state", "done")[0]["job"] == jid
    code, _out, err = archive("job", "show", "nope")
    assert code == 1 and "nope" in err


def test_an_upload_that_cannot_be_kept_leaves_nothing(archive, anna, client, home, monkeypatch):
    from magazin.ingest import jobs

    def disk_full(upload, target):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jobs, "_keep", disk_full)
    api = _token_client(type(client), anna["token"])
    r = api.post("/api/ingest/", {"file": _zip({"a.txt": "A"})})
    assert r.status_code == 507 and "reden.zip" in r.json()["detail"]
    assert "No space left" in r.json()["detail"]
    assert not home.uploads.exists() or not any(home.uploads.iterdir())
    assert api.get("/api/jobs/").json()["count"] == 0


def test_a_failed_job_is_run_again_and_old_task_rows_are_pruned(
    archive, anna, client, home, monkeypatch
):
    import datetime as dt

    from django_tasks_db.models import DBTaskResult

    from magazin.ingest import services
    from magazin.ingest.jobs import prune_tasks

    api = _token_client(type(client), anna["token"])
    jid = api.post("/api/ingest/", {"file": _zip({"a.txt": "A"})}).json()["job"]
    real = services.run_ingest

    def broken(*a, **kw):
        raise RuntimeError("catalog went away")

    monkeypatch.setattr(services, "run_ingest", broken)
    _work(archive)
    job = api.get(f"/api/jobs/{jid}/").json()
    assert job["state"] == "failed" and "catalog went away" in job["errors"][0]["reason"]
    assert (home.uploads / jid).is_dir()  # kept: nothing was stored
    assert DBTaskResult.objects.failed().count() == 1
    # only a failed job runs again; from the page (archivist) or the CLI
    monkeypatch.setattr(services, "run_ingest", real)
    assert client.login(username="anna", password=PASSWORD)
    page = client.get(f"/ingest/jobs/{jid}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Erneut ausführen" in page
    assert client.post(f"/ingest/jobs/{jid}/").status_code == 302
    assert api.get(f"/api/jobs/{jid}/").json()["state"] == "queued"
    _work(archive)
    assert api.get(f"/api/jobs/{jid}/").json()["state"] == "done"
    code, _o, err = archive("job", "retry", jid)
    assert code == 1 and "only a failed job" in err
    # other tenants cannot
    archive.json("tenant", "create", "land", "--name", "Land")
    make_user(archive, "bob", "land", "archivist")
    bob = type(client)()
    assert bob.login(username="bob", password=PASSWORD)
    assert bob.post(f"/ingest/jobs/{jid}/").status_code == 404
    # finished task rows older than 30 days are forgotten; the job keeps its outcome
    assert prune_tasks() == 0
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=31)
    DBTaskResult.objects.update(finished_at=old)
    assert prune_tasks() == 2
    assert api.get(f"/api/jobs/{jid}/").json()["state"] == "done"


def test_files_the_table_does_not_name_become_units_when_asked(archive, anna, client):
    """The ingest form's "also take files the table does not list" and the API's
    unlisted=unit store such a file as a unit of its own (the CLI's --unlisted unit)."""
    table = b"Datei;Titel\na.txt;Rede A\n"
    assert client.login(username="anna", password=PASSWORD)
    r = client.post("/ingest/", {"mode": "upload", "fonds": "OB-Reden", "include_unlisted": "on",
                                 "file": _zip({"a.txt": "A", "b.txt": "B"}),
                                 "metadata": SimpleUploadedFile("t.csv", table)})  # fmt: skip
    web_jid = r["Location"].split("/")[-2]
    api = _token_client(type(client), anna["token"])
    api_jid = api.post("/api/ingest/", {"file": _zip({"c.txt": "C", "d.txt": "D"}, "z.zip"),
                       "metadata": SimpleUploadedFile("t.csv", b"Datei;Titel\nc.txt;C\n"),
                       "unlisted": "unit"}).json()["job"]  # fmt: skip
    r = api.post("/api/ingest/", {"file": _zip({"e.txt": "E"}), "unlisted": "include"})
    assert r.status_code == 400 and "reject, unit" in r.json()["detail"]
    _work(archive)
    for jid in (web_jid, api_jid):
        job = api.get(f"/api/jobs/{jid}/").json()
        assert job["state"] == "done" and len(job["aips"]) == 2, job
    titles = {u["title"] for u in archive.json("aip", "list")}
    assert {"Rede A", "b.txt", "C", "d.txt"} <= titles
