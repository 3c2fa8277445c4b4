"""Storage is the whole truth: `magazin catalog rebuild` restores the catalog exactly — a
full dump of it before and after, leaving out only what is kept in the database alone
(users and their memberships, tokens, sessions, jobs, quarantine entries, the access log)
and what the catalog derives (the search index, the accession number counter)."""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.db import models

from magazin.catalog.models import Unit

from .conftest import write_tree

# kept in the database alone (README: "What lives where"), or derived from the rest
DATABASE_ONLY = {
    "auth", "contenttypes", "sessions", "admin", "django_tasks_database",
    "magazin_access.Membership", "magazin_access.LoginFailures", "magazin_access.ApiToken",
    "magazin_access.AccessLog", "magazin_access.SearchDoc",
    "magazin_ingest.IngestJob", "magazin_ingest.QuarantineEntry",
    "magazin_catalog.AccessionSequence",
}  # fmt: skip

NATURAL = {
    "Tenant": lambda o: o.slug,
    "Fonds": lambda o: (o.tenant.slug, o.code),
    "Accession": lambda o: o.ulid,
    "Unit": lambda o: o.aid,
    "Representation": lambda o: (o.unit.aid, o.name),
    "User": lambda o: o.username,
    "Agency": lambda o: (o.tenant.slug, o.code),
    "Process": lambda o: (o.agency.tenant.slug, o.agency.code, o.process_id),
    "ProcessObject": lambda o: (o.process.process_id, o.idsgo),
}


def _kept(model) -> bool:
    label = model._meta.app_label
    return label not in DATABASE_ONLY and f"{label}.{model.__name__}" not in DATABASE_ONLY


def _value(obj, f):
    if isinstance(f, models.ForeignKey):
        target = getattr(obj, f.name)
        return None if target is None else NATURAL[type(target).__name__](target)
    v = getattr(obj, f.attname)
    return v.isoformat() if isinstance(v, dt.datetime | dt.date) else v


def dump() -> dict[str, list]:
    """Every row of every kept model, foreign keys by natural key, without surrogate ids."""
    out = {}
    for model in apps.get_models():
        if not _kept(model):
            continue
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        rows = [tuple((f.name, _value(o, f)) for f in fields) for o in model.objects.all()]
        out[f"{model._meta.app_label}.{model.__name__}"] = sorted(rows, key=repr)
    return out


def test_rebuild_restores_every_decision_exactly(archive, cli, home, tmp_path):
    for name in ("anna", "bert"):
        cli("user", "create", name, "--tenant", "stadt", "--role", "reader",
            "--password-stdin", stdin="Gutes-Passwort-2026\n")  # fmt: skip
    archive.json("tektonik", "create", "stadt", "A", "--title", "Amtsbücher")
    archive.json("fonds", "edit", "OB-Reden", "--group", "A")
    sip = write_tree(tmp_path / "sip", {f"rede-{i}.txt": f"Rede {i}" for i in range(4)})
    table = tmp_path / "t.csv"
    table.write_text(
        "Datei;Titel;Datum\n" + "".join(f"rede-{i}.txt;Rede {i};{1990 + i}-05-01\n"
                                        for i in range(4))
    )  # fmt: skip
    aids = [a["aid"] for a in archive.json("ingest", sip, "--metadata", table)["aips"]]
    archive.json("aip", "edit", aids[0], "--title", "Rede zur Eröffnung")
    archive.json("access", "profile", "stadt", "lsa")
    archive.json("access", "release", aids[0], aids[1], "--reason", "Ausstellung")
    archive.json("access", "revoke", aids[1], "--release", "--reason", "zu früh")
    expires = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    for aid in aids[2:]:
        archive.json("access", "grant", aid, "--reader", "anna", "--reason", "Forschung",
                     "--purpose", "Dissertation", "--expires", expires)  # fmt: skip
    archive.json("access", "grant", aids[3], "--reader", "bert", "--reason", "Presse",
                 "--purpose", "Artikel", "--expires", expires)  # fmt: skip
    archive.json("access", "revoke", aids[3], "--reader", "anna", "--reason", "beendet")
    archive.json("access", "publish", aids[2], "--reason", "Amtsblatt")
    archive.json("audit")
    before = dump()
    assert len(before["magazin_access.Release"]) == 2
    assert len(before["magazin_access.Grant"]) == 3
    archive.json("catalog", "rebuild")
    after = dump()
    assert after.keys() == before.keys()
    for model, rows in before.items():
        differ = [(dict(a), dict(b)) for a, b in zip(rows, after[model], strict=False) if a != b]
        diffs = [{k: (a[k], b.get(k)) for k in a if a[k] != b.get(k)} for a, b in differ]
        assert after[model] == rows, (model, diffs[:3])
    # readers' names never go into AIPs: grants name them by pseudonym
    from magazin.access.models import Membership
    from magazin.core.config import load_home
    from magazin.core.storage.store import Storage

    anna = Membership.objects.get(user__username="anna").reader_id
    obj = Storage(load_home(home.path)).open("stadt", Unit.objects.get(aid=aids[2]).ocfl_id)
    premis = obj.read("metadata/preservation/premis.xml").decode()
    assert anna in premis and "anna" not in premis.replace(anna, "")
    assert "policy assignment" in premis and "Dissertation" in premis
