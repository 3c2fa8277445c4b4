"""Full-text search over units: metadata at once, file text (the formats core/text.py reads)
after the background step has extracted it. A tantivy index beside the catalog, on SQLite
and PostgreSQL alike (fulltext.py), of folded text: it matches case-insensitively, folds
umlauts and ß (Müller, Mueller and Muller are one word), and matches prefixes.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from operator import itemgetter
from pathlib import Path

from django.core.exceptions import FullResultSet
from django.db import connection
from django.db.models import (
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    QuerySet,
    Value,
    When,
)

from magazin.catalog.models import File, Fonds, Unit
from magazin.catalog.services import unit_files, unit_root
from magazin.catalog.storage import archive_storage
from magazin.core.config import home_path
from magazin.core.storage.ocfl import OcflError
from magazin.core.text import extract_text, kind_of

from . import fulltext
from .fulltext import id_list
from .models import SearchDoc
from .scope import open_to_all

_WORD = re.compile(r"\w+")
_PUNCT = re.compile(r"[^\w]+")


def fold(text: str) -> str:
    """Lower case, ß → ss, umlauts and other diacritics dropped, ae/oe/ue → a/o/u (so that
    the transcriptions of German umlauts meet them)."""
    t = unicodedata.normalize("NFKD", unicodedata.normalize("NFC", text).casefold())
    t = "".join(c for c in t if not unicodedata.combining(c))
    return t.replace("ae", "a").replace("oe", "o").replace("ue", "u")


def words(query: str) -> list[str]:
    return _WORD.findall(fold(query))


# -- indexing -------------------------------------------------------------------------------


def _described(u: Unit) -> list[str]:
    """A unit's description as text: title, Dublin Core values, the other fields."""
    parts = [u.title, *(v for vs in (u.dc or {}).values() for v in vs)]
    return parts + [v for k, v in (u.extra or {}).items() if k != "path" and isinstance(v, str)]


def _metadata_text(u: Unit, files: list[str] = ()) -> str:
    """What a unit is found by besides its files' text: AID, fonds, description, and the
    names of its files (as delivered)."""
    parts = [u.aid, u.fonds.code if u.fonds_id else "", *_described(u)]
    # a file name also in words: PostgreSQL's parser reads "rede.txt" as one token
    names = [p.rsplit("/", 1)[-1] for p in files]
    parts += names + [_PUNCT.sub(" ", n) for n in names]
    return fold(" ".join(parts))


def _file_names(units: list[Unit]) -> dict[int, list[str]]:
    """The paths of the files of each unit (a child unit: those under its folder)."""

    roots = {u.pk: unit_root(u) for u in units}
    paths: dict[int, list[str]] = {}
    rows = File.objects.filter(representation__unit__in=list({r.pk for r in roots.values()}))
    for unit_id, path in rows.values_list("representation__unit_id", "path"):
        paths.setdefault(unit_id, []).append(path)
    out = {}
    for u in units:
        mine = paths.get(roots[u.pk].pk, [])
        if roots[u.pk].pk != u.pk:
            prefix = (u.extra or {}).get("path", "")
            mine = [p for p in mine if prefix and p.startswith(prefix + "/")]
        out[u.pk] = mine
    return out


def index_units(units: list[Unit]) -> None:
    """Index the metadata of new units (their file text follows in the background)."""
    names = _file_names(units)
    docs = [
        SearchDoc(unit_id=u.pk, tenant_id=u.tenant_id, metadata=_metadata_text(u, names[u.pk]))
        for u in units
    ]
    SearchDoc.objects.bulk_create(docs, batch_size=1000)


def reindex_metadata(units: list[Unit]) -> None:
    """After a description was corrected: the metadata part of the index again."""
    names = _file_names(units)
    for u in units:
        doc = SearchDoc.objects.filter(unit_id=u.pk).first()
        if doc is None:
            index_units([u])
            continue
        doc.metadata = _metadata_text(u, names[u.pk])
        SearchDoc.objects.filter(pk=doc.pk).update(metadata=doc.metadata)


def extract_pending(home, limit: int = 200) -> int:
    """The background step: read the text of the files of units not yet extracted."""
    docs = list(
        SearchDoc.objects.filter(extracted=False).select_related("unit", "unit__tenant")[:limit]
    )
    storage = archive_storage(home)
    home.tmp.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        unit = doc.unit
        root = unit_root(unit)
        texts = []
        for f in unit_files(unit):
            kind = kind_of(f.path, f.mime, f.puid)
            if kind is None:
                continue
            logical = f"representations/{f.representation.name}/data/{f.path}"
            try:
                with (
                    home.locks.shared(root.ocfl_id),
                    storage.verified_file(root.tenant.slug, root.ocfl_id, logical, home.tmp) as fh,
                ):
                    texts.append(extract_text(Path(fh.name), kind))
            except (OcflError, KeyError, OSError):
                continue
        raw = "\n".join(texts)
        doc.content = fold(raw)
        doc.extracted = True
        SearchDoc.objects.filter(pk=doc.pk).update(
            content=doc.content, extracted=True, text=raw[:SNIPPET_SOURCE]
        )
    return len(docs)


def pending() -> int:
    return SearchDoc.objects.filter(extracted=False).count()


def catch_up(wait: float = 30.0, prune: bool = False) -> int:
    """Bring the tantivy index to the catalog's state (fulltext.FullTextIndex); how many
    units were (re)indexed."""
    return fulltext.index_in(home_path()).catch_up(wait, prune)


# -- searching ------------------------------------------------------------------------------

# how much of a unit's text is kept as written, for the snippets of its hits
SNIPPET_SOURCE = 20_000


# A search counts and ranks at most this many matches: a query that matches more (a short
# prefix, a word in nearly every unit) reports CAP hits with `exact` false and ranks the
# first CAP matches the index yields. Counting and ranking every match of such a query costs
# hundreds of milliseconds and helps nobody; the reader narrows the search instead.
CAP = 10_000
# the filters a search takes (web page, API, CLI): see _filter
FILTERS = ("fonds", "format", "access", "from", "to")


def _facet_values() -> dict:
    """What the facets count of a unit besides its fonds and formats: the decade of its date
    range's start, and whether it is open to all readers today (scope.open_to_all)."""
    return {
        "decade": ExpressionWrapper(F("year_from") / 10 * 10, IntegerField()),
        "is_open": Case(When(open_to_all(dt.date.today()), then=Value(1)), default=Value(0)),
    }


def _with_fonds_codes(groups) -> list[tuple]:
    """((fonds id, decade, open to all, formats), matches) as (fonds code, decade, open to
    all, formats, matches)."""
    groups = list(groups)
    fonds_ids = {f for (f, *_rest), _n in groups if f is not None}
    codes = dict(Fonds.objects.filter(pk__in=fonds_ids).values_list("pk", "code"))
    return [(codes.get(f), d, o, formats, n) for (f, d, o, formats), n in groups]


def _every_unit(units) -> bool:
    """Whether a units queryset has no condition at all."""
    if units.query.is_empty():
        return False
    try:
        units.query.get_compiler(connection=connection).compile(units.query.where)
    except FullResultSet:
        return True
    return False


class SearchResult:
    """Matches of a full-text search, best first: counted (up to CAP), sliced a page at a
    time (the units with `score`), and faceted through `matched`.

    One query does it all: the full-text index yields the matches in the scope (at most CAP)
    with their scores and what the facets count; only these leave the index, and the count,
    every page and the facets come from them, so the full-text query runs once per request,
    however the result is used.

    The index (tantivy, fulltext.py) yields the best CAP of all matches, the scope a filter
    in the index where it is a staff member's tenant or a reader's (closure periods,
    releases and grants); any other scope (filters, a queryset of the caller's) is checked
    in the catalog for the best matches, a batch at a time, until CAP are in it.
    `every_unit`: `units` had no condition before the filters."""

    def __init__(self, units, ws: list[str], cap: int = CAP, tenant_id: int | None = None,
                 reader: tuple[int, object] | None = None, filters: dict | None = None,
                 every_unit: bool = False):  # fmt: skip
        self.units, self.cap = units, cap
        self._hits: list[tuple] | None = None
        filters = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
        self._within_index(ws, tenant_id, reader, filters, every_unit)

    def _within_index(self, ws, tenant_id, reader, filters: dict, every_unit: bool) -> None:
        """What the tantivy index selects by (the scope and filters as _filter and
        scope.Scope.units define them), and whether the catalog must check the matches (a
        scope the caller made, a format: its files' formats, which a part does not have)."""
        self._ws, self._today = ws, dt.date.today()
        tenant, reader_key = tenant_id, None
        if reader is not None:  # open to every reader, or granted to this one (in the index)
            tenant, user = reader
            reader_key = user.pk
        fonds = None
        if filters.get("fonds"):
            of = Fonds.objects.filter(code=filters["fonds"])
            fonds = frozenset((of if tenant is None else of.filter(tenant_id=tenant))
                              .values_list("pk", flat=True))  # fmt: skip
        access = filters.get("access")
        self._within = fulltext.Within(
            tenant, self._today, reader_key, fonds,
            (_year(filters.get("from")), _year(filters.get("to"))),
            access == "open" if access in ("open", "closed") else None)  # fmt: skip
        known = tenant_id is not None or reader is not None or every_unit
        self._checked = not known or bool(filters.get("format"))

    def _ranked(self) -> list[tuple]:
        """(unit id, score, fonds, decade, opening day, formats) of every match, best
        first."""
        if self._hits is None:
            rows = self._index_rows()
            rows.sort(key=itemgetter(0))  # then by score, best first: ties stay by id
            rows.sort(key=itemgetter(1), reverse=True)
            self._hits = rows
        return self._hits

    def _index_rows(self) -> list[tuple]:
        """The best CAP matches in the scope, from the tantivy index brought up to date."""
        index = fulltext.index_in(home_path())
        index.catch_up()
        step = self.cap if not self._checked else max(2 * self.cap, 1000)
        rows, offset = [], 0
        while True:
            m = index.matches(self._ws, self._within, step, offset)
            found = zip(m.units, m.scores, m.fonds, m.decade, m.open_from, m.formats,
                        strict=True)  # fmt: skip
            if self._checked:
                inside = self.units.filter(pk__in=id_list(m.units)).values_list("pk", flat=True)
                inside = set(inside)
                found = (r for r in found if r[0] in inside)
            rows += found
            offset += step
            if len(rows) >= self.cap or offset >= m.total:
                return rows[: self.cap]

    def facet_groups(self) -> list[tuple]:
        """(fonds code, decade, open to all, formats, matches) of the matches."""
        rows = self._ranked()
        # open to all from its day on (fulltext._UNIT_ROWS); counted by C, not a Python loop
        is_open = map(self._today.toordinal().__ge__, map(itemgetter(4), rows))
        fonds, decades, formats = (map(itemgetter(i), rows) for i in (2, 3, 5))
        keys = Counter(zip(fonds, decades, is_open, formats, strict=True))
        return _with_fonds_codes(keys.items())

    @property
    def ids(self) -> list[int]:
        """The matched units' ids, best first."""
        return [r[0] for r in self._ranked()]

    @property
    def matched(self):
        """The matched units as a queryset (for facets and other orders)."""
        return self.units.filter(pk__in=id_list(self.ids))

    def count(self) -> int:
        return len(self._ranked())

    @property
    def exact(self) -> bool:
        """False when the query matched more units than it counts (CAP)."""
        return self.count() < self.cap

    def __len__(self) -> int:
        return self.count()

    def _page(self, offset: int, limit: int | None) -> list[Unit]:
        rows = self._ranked()[offset : None if limit is None else offset + limit]
        by_pk = {u.pk: u for u in self.units.filter(pk__in=[r[0] for r in rows])}
        out = []
        for pk, score, *_facets in rows:
            if pk in by_pk:
                u = by_pk[pk]
                u.score = score
                out.append(u)
        return out

    def __getitem__(self, k):
        if isinstance(k, slice):
            if k.step not in (None, 1):
                raise ValueError("search results are sliced without a step")
            start = k.start or 0
            limit = None if k.stop is None else max(0, k.stop - start)
            return self._page(start, limit)
        return self._page(int(k), 1)[0]

    def __iter__(self):
        return iter(self._page(0, None))


def search(
    units,
    query: str,
    filters: dict | None = None,
    tenant_id: int | None = None,
    reader: tuple[int, object] | None = None,
) -> SearchResult | QuerySet:
    """The units of `units` (a scope's queryset) matching every word of `query` as a prefix,
    best first, each with `score` (higher is better). `tenant_id`: the caller's promise that
    `units` are all units of that tenant (a staff scope); `reader`: that they are the units
    open to this reader of this tenant (Scope.reader). Either spares looking up the matches'
    units."""
    from django.core.exceptions import EmptyResultSet

    ws = words(query)
    if not ws:
        return units.none()
    base = _filter(units, filters or {})
    if base.query.is_empty():  # the scope holds nothing (an operator, say)
        return units.none()
    try:
        every_unit = tenant_id is None and reader is None and _every_unit(units)
        return SearchResult(base, ws, CAP, tenant_id, reader, filters, every_unit)
    except EmptyResultSet:  # the scope holds nothing (an operator, say)
        return units.none()


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
    a result set. A search's are counted from the rows its one query returned; any other
    queryset's in one grouped query."""
    if isinstance(qs, SearchResult):
        groups = qs.facet_groups()
    else:
        groups = (
            qs.order_by()
            .annotate(**_facet_values())
            .values_list("fonds__code", "decade", "is_open", "formats")
            .annotate(n=Count("id"))
        )
    by_fonds: dict[str, int] = {}
    by_decade: dict[int | None, int] = {}
    by_format: dict[str, int] = {}
    access = {"open": 0, "closed": 0}
    for fonds, decade, is_open, formats, n in groups:
        by_fonds[fonds] = by_fonds.get(fonds, 0) + n
        by_decade[decade] = by_decade.get(decade, 0) + n
        access["open" if is_open else "closed"] += n
        for puid in formats.split():  # units with files; "unknown": not identified
            by_format[puid] = by_format.get(puid, 0) + n
    by_date = {str(d): by_decade[d] for d in sorted(d for d in by_decade if d is not None)}
    if None in by_decade:
        by_date["unknown"] = by_decade[None]
    return {
        "fonds": dict(sorted(by_fonds.items())),
        "format": dict(sorted(by_format.items(), key=lambda kv: (-kv[1], kv[0]))),
        "date": by_date,
        "access": access,
    }


# the orders a result can be shown in besides relevance: the date range by its first day,
# the signature naturally (catalog.services.natural_key)
ORDERS = {
    "date": ("date_key", "id"),
    "-date": ("-date_key", "-id"),
    "signature": ("signature_key", "id"),
}


def ordered(found, order: str):
    """The matches in another order than relevance (a queryset of the units, without scores)."""
    fields = ORDERS.get(order)
    if fields is None:
        return found
    base = found.matched if isinstance(found, SearchResult) else found
    return base.order_by(*fields)


def format_names(puids) -> dict[str, str]:
    """PRONOM format names with version for PUIDs, as identified in the archive's files."""

    out: dict[str, str] = {}
    rows = (
        File.objects.filter(puid__in=[p for p in puids if p and p != "unknown"])
        .values_list("puid", "format_name", "format_version")
        .distinct()
    )
    for puid, name, version in rows:
        if name and puid not in out:
            out[puid] = f"{name} {version}".strip() if version else name
    return out


SNIPPET_WORDS = 30


def snippet(text: str, ws: list[str]) -> list[tuple[str, bool]]:
    """The part of `text` around its first word that matches the query (as a prefix, folded
    like the index), as pieces (text, matched); empty if no word matches."""
    tokens = list(_WORD.finditer(text or ""))
    hit = [i for i, m in enumerate(tokens) if any(fold(m.group()).startswith(w) for w in ws)]
    if not hit:
        return []
    start = max(0, hit[0] - SNIPPET_WORDS // 3)
    end = min(len(tokens), start + SNIPPET_WORDS)
    pieces: list[tuple[str, bool]] = [("… ", False)] if start > 0 else []
    pos = tokens[start].start()
    marked = set(hit)
    for i in range(start, end):
        m = tokens[i]
        if m.start() > pos:
            pieces.append((text[pos : m.start()], False))
        pieces.append((m.group(), i in marked))
        pos = m.end()
    if end < len(tokens):
        pieces.append((" …", False))
    return pieces


def snippets(units, query: str) -> dict[int, list[tuple[str, bool]]]:
    """For each unit of a result page, where the query words stand: in its files' text if
    there, else in its description or file names."""
    ws = words(query)
    docs = {d.unit_id: d for d in SearchDoc.objects.filter(unit_id__in=[u.pk for u in units])}
    out = {}
    for u in units:
        doc = docs.get(u.pk)
        found = snippet(doc.text, ws) if doc is not None else []
        if not found:
            found = snippet(" · ".join(_described(u)), ws)
        out[u.pk] = found
    return out
