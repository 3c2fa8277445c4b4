"""Full-text search over units: metadata at once, file text (PDF, DOCX, ODT, TXT) after the
background step has extracted it. SQLite FTS5 on the embedded default, PostgreSQL full-text
search in production; both see the same folded text, so both match case-insensitively, fold
umlauts and ß (Müller, Mueller and Muller are one word), and match prefixes.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.db import connection, transaction
from django.db.models import Count, ExpressionWrapper, F, IntegerField, QuerySet
from django.db.models.expressions import RawSQL

from magazin.catalog.models import Unit
from magazin.catalog.services import unit_files, unit_root
from magazin.core.text import extract_text, kind_of

from .models import SearchDoc
from .scope import open_to_all

_WORD = re.compile(r"\w+")
FTS = "magazin_search_fts"


def fold(text: str) -> str:
    """Lower case, ß → ss, umlauts and other diacritics dropped, ae/oe/ue → a/o/u (so that
    the transcriptions of German umlauts meet them)."""
    t = unicodedata.normalize("NFKD", unicodedata.normalize("NFC", text).casefold())
    t = "".join(c for c in t if not unicodedata.combining(c))
    return t.replace("ae", "a").replace("oe", "o").replace("ue", "u")


def words(query: str) -> list[str]:
    return _WORD.findall(fold(query))


# -- indexing -------------------------------------------------------------------------------


def _metadata_text(u: Unit) -> str:
    parts = [u.aid, u.title, u.fonds.code if u.fonds_id else ""]
    parts += [v for vs in (u.dc or {}).values() for v in vs]
    parts += [v for k, v in (u.extra or {}).items() if k != "path" and isinstance(v, str)]
    return fold(" ".join(parts))


def _write_fts(rows: list[tuple[int, str]]) -> None:
    if connection.vendor != "sqlite" or not rows:
        return
    with connection.cursor() as c:
        c.executemany(f"DELETE FROM {FTS} WHERE rowid = %s", [(pk,) for pk, _ in rows])
        c.executemany(f"INSERT INTO {FTS}(rowid, body) VALUES (%s, %s)", rows)


def index_units(units: list[Unit]) -> None:
    """Index the metadata of new units (their file text follows in the background)."""
    docs = [
        SearchDoc(unit_id=u.pk, tenant_id=u.tenant_id, metadata=_metadata_text(u)) for u in units
    ]
    SearchDoc.objects.bulk_create(docs, batch_size=1000)
    _write_fts([(d.unit_id, d.metadata) for d in docs])


def reindex_metadata(units: list[Unit]) -> None:
    """After a description was corrected: the metadata part of the index again."""
    for u in units:
        doc = SearchDoc.objects.filter(unit_id=u.pk).first()
        if doc is None:
            index_units([u])
            continue
        doc.metadata = _metadata_text(u)
        SearchDoc.objects.filter(pk=doc.pk).update(metadata=doc.metadata)
        _write_fts([(u.pk, f"{doc.metadata}\n{doc.content}")])


def extract_pending(home, limit: int = 200) -> int:
    """The background step: read the text of the files of units not yet extracted."""
    from magazin.core.storage.location import FilesystemLocation
    from magazin.core.storage.ocfl import OcflError, OcflObject

    docs = list(
        SearchDoc.objects.filter(extracted=False).select_related("unit", "unit__tenant")[:limit]
    )
    objects: dict[str, OcflObject | None] = {}
    for doc in docs:
        unit = doc.unit
        root = unit_root(unit)
        if root.ocfl_id not in objects:
            objects[root.ocfl_id] = None
            for c in home.locations:
                d = FilesystemLocation(c).object_dir(root.tenant.slug, root.ocfl_id)
                try:
                    objects[root.ocfl_id] = OcflObject.open(d)
                    break
                except (OcflError, OSError):
                    continue
        obj = objects[root.ocfl_id]
        texts = []
        for f in unit_files(unit) if obj is not None else []:
            kind = kind_of(f.path, f.mime, f.puid)
            if kind is None:
                continue
            try:
                p = obj.logical_file(f"representations/{f.representation.name}/data/{f.path}")
            except (OcflError, KeyError, OSError):
                continue
            texts.append(extract_text(p, kind))
        doc.content = fold("\n".join(texts))
        doc.extracted = True
        with transaction.atomic():
            SearchDoc.objects.filter(pk=doc.pk).update(content=doc.content, extracted=True)
            _write_fts([(doc.unit_id, f"{doc.metadata}\n{doc.content}")])
    return len(docs)


def pending() -> int:
    return SearchDoc.objects.filter(extracted=False).count()


# -- searching ------------------------------------------------------------------------------


class Ranked(QuerySet):
    """Matches, best first (the full-text join), counted and faceted through `matched`: the
    same units selected by an IN over the full-text index, which every planner runs fast."""

    matched = None

    def _clone(self):
        c = super()._clone()
        c.matched = self.matched
        return c

    def count(self) -> int:
        return self.matched.count() if self.matched is not None else super().count()


def search(units, query: str, filters: dict | None = None):
    """The units of `units` (a scope's queryset) matching every word of `query` as a prefix,
    best first, each with `score` (higher is better)."""
    ws = words(query)
    if not ws:
        return units.none()
    if connection.vendor == "sqlite":
        match = " ".join(f'"{w}"*' for w in ws)
        ids = RawSQL(f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s", [match])
        join = {
            "tables": [FTS],
            "where": [f"{FTS}.rowid = catalog_unit.id", f"{FTS} MATCH %s"],
            "params": [match],
            "select": {"score": f"-{FTS}.rank"},
        }
    else:
        tsq = " & ".join(f"{w}:*" for w in ws)
        vector = "magazin_access_searchdoc.vector"  # stored, see migration 0003
        ids = RawSQL(
            "SELECT unit_id FROM magazin_access_searchdoc "
            f"WHERE {vector} @@ to_tsquery('simple', %s)",
            [tsq],
        )
        join = {
            "tables": ["magazin_access_searchdoc"],
            "where": [
                "magazin_access_searchdoc.unit_id = catalog_unit.id",
                f"{vector} @@ to_tsquery('simple', %s)",
            ],
            "params": [tsq],
            "select": {"score": f"ts_rank({vector}, to_tsquery('simple', %s))"},
            "select_params": [tsq],
        }
    matched = _filter(units.filter(pk__in=ids), filters or {})
    qs = _filter(units, filters or {}).extra(**join).order_by("-score", "id")
    ranked = Ranked(model=qs.model, query=qs.query, using=qs._db)
    ranked.matched = matched
    return ranked


def _year(value) -> int | None:
    try:
        y = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return y if -9999 <= y <= 9999 else None


def _filter(qs, f: dict):
    # a date range filter keeps the units whose years overlap it
    if (y := _year(f.get("from"))) is not None:
        qs = qs.filter(year_to__gte=y)
    if (y := _year(f.get("to"))) is not None:
        qs = qs.filter(year_from__lte=y)
    if f.get("fonds"):
        qs = qs.filter(fonds__code=f["fonds"])
    if f.get("format"):
        qs = qs.filter(representations__files__puid=f["format"]).distinct()
    if f.get("access") in ("open", "closed"):
        is_open = open_to_all(dt.date.today())
        qs = qs.filter(is_open) if f["access"] == "open" else qs.exclude(is_open)
    return qs


def facets(qs) -> dict:
    """Counts by fonds, format (PUID), decade of the date range's start and access status of
    a result set."""
    base = (qs.matched if getattr(qs, "matched", None) is not None else qs).order_by()
    by_fonds = {
        r["fonds__code"]: r["n"] for r in base.values("fonds__code").annotate(n=Count("id"))
    }
    by_format = {
        r["representations__files__puid"] or "unknown": r["n"]
        for r in base.filter(representations__files__isnull=False)
        .values("representations__files__puid")
        .annotate(n=Count("id", distinct=True))
    }
    decades = (
        base.annotate(decade=ExpressionWrapper(F("year_from") / 10 * 10, IntegerField()))
        .values("decade")
        .annotate(n=Count("id"))
        .order_by("decade")
    )
    by_date = {str(r["decade"]) if r["decade"] is not None else "unknown": r["n"] for r in decades}
    n_open = base.filter(open_to_all(dt.date.today())).distinct().count()
    return {
        "fonds": by_fonds,
        "format": by_format,
        "date": by_date,
        "access": {"open": n_open, "closed": base.count() - n_open},
    }
