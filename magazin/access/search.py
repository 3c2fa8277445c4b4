"""Full-text search over units: metadata at once, file text (the formats core/text.py reads)
after the background step has extracted it. A tantivy index beside the catalog on the
embedded default (fulltext.py), PostgreSQL's full-text search in production; both see the
same folded text, so both match case-insensitively, fold umlauts and ß (Müller, Mueller and
Muller are one word), and match prefixes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections import Counter
from operator import itemgetter
from pathlib import Path

from django.core.exceptions import FullResultSet
from django.db import connection, transaction
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
from django.db.models.expressions import RawSQL

from magazin.catalog.models import File, Fonds, Unit
from magazin.catalog.services import unit_files, unit_root
from magazin.catalog.storage import archive_storage
from magazin.core.config import home_path
from magazin.core.storage.ocfl import OcflError
from magazin.core.text import extract_text, kind_of

from . import fulltext
from .models import SearchDoc
from .scope import open_to_all

_WORD = re.compile(r"\w+")
_PUNCT = re.compile(r"[^\w]+")
VECTORS = "magazin_search_vector"  # PostgreSQL: the tsvectors with their GIN index


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


def write_index(rows: list[tuple[int, int, str]]) -> None:
    """The full-text index of these units: (unit id, tenant id, folded text). PostgreSQL:
    their vectors in `magazin_search_vector`. SQLite: nothing to do here; the search
    documents' triggers have noted the units for the tantivy index (fulltext.catch_up)."""
    if not rows:
        return
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            c.executemany(
                f"INSERT INTO {VECTORS} (unit_id, tenant_id, vector) "
                "VALUES (%s, %s, to_tsvector('simple', %s)) ON CONFLICT (unit_id) "
                "DO UPDATE SET tenant_id = EXCLUDED.tenant_id, vector = EXCLUDED.vector",
                rows,
            )


def index_units(units: list[Unit]) -> None:
    """Index the metadata of new units (their file text follows in the background)."""
    names = _file_names(units)
    docs = [
        SearchDoc(unit_id=u.pk, tenant_id=u.tenant_id, metadata=_metadata_text(u, names[u.pk]))
        for u in units
    ]
    SearchDoc.objects.bulk_create(docs, batch_size=1000)
    write_index([(d.unit_id, d.tenant_id, d.metadata) for d in docs])


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
        write_index([(u.pk, u.tenant_id, f"{doc.metadata}\n{doc.content}")])


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
        with transaction.atomic():
            SearchDoc.objects.filter(pk=doc.pk).update(
                content=doc.content, extracted=True, text=raw[:SNIPPET_SOURCE]
            )
            write_index([(doc.unit_id, doc.tenant_id, f"{doc.metadata}\n{doc.content}")])
    return len(docs)


def pending() -> int:
    return SearchDoc.objects.filter(extracted=False).count()


def catch_up(wait: float = 30.0, prune: bool = False) -> int:
    """SQLite: bring the tantivy index to the catalog's state (fulltext.FullTextIndex);
    PostgreSQL's index follows in the same transaction. How many units were (re)indexed."""
    if connection.vendor != "sqlite":
        return 0
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


def id_list(ids: list[int]) -> RawSQL:
    """A subquery yielding these ids, one parameter whatever their number (SQLite: a JSON
    array; PostgreSQL: an array)."""
    if connection.vendor == "sqlite":
        return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])
    return RawSQL("SELECT unnest(%s::bigint[])", [ids])


def _facet_values() -> dict:
    """What the facets count of a unit besides its fonds and formats: the decade of its date
    range's start, and whether it is open to all readers today (scope.open_to_all)."""
    return {
        "decade": ExpressionWrapper(F("year_from") / 10 * 10, IntegerField()),
        "is_open": Case(When(open_to_all(dt.date.today()), then=Value(1)), default=Value(0)),
    }


def _facet_key() -> tuple[str, list]:
    """The SQL of what each match carries for the facets, read from its joined
    `catalog_unit` row, as one string (compiled by Django): "<fonds id> <decade> <open to
    all: 1/0> <formats>", empty where unknown. One column, not four: ten thousand matches
    leave the database faster, and are counted by one Counter over few distinct keys."""
    query = Unit.objects.all().query
    compiler = query.get_compiler(connection=connection)
    values = _facet_values()
    parts, params = [], []
    for expr in (F("fonds_id"), values["decade"], values["is_open"]):
        sql, p = compiler.compile(expr.resolve_expression(query))
        parts.append(f"COALESCE(CAST(({sql}) AS text), '')")
        params += p
    return " || ' ' || ".join([*parts, '"catalog_unit"."formats"']), params


def _facet_groups(rows: list[tuple]) -> list[tuple]:
    """(fonds code, decade, open to all, formats, matches) from a search's rows (PostgreSQL:
    each with its facet key, see _facet_key)."""
    keys = Counter(map(itemgetter(2), rows))
    split = ((key.split(" ", 3), n) for key, n in keys.items())
    return _with_fonds_codes(
        ((int(f) if f else None, int(d) if d else None, o == "1", formats), n)
        for (f, d, o, formats), n in split
    )


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


def _on_the_unit_alone(units) -> bool:
    """Whether a units queryset's conditions need no other table joined (the joins Django
    set up and trimmed again keep a reference count of 0)."""
    q = units.query
    return not q.distinct and all(
        n == 0 for alias, n in q.alias_refcount.items() if alias != Unit._meta.db_table
    )


# PostgreSQL's index of prefixes (migration 0013, magazin_search_terms): each word's
# prefixes of up to INDEXED_PREFIX letters, and the unit's bucket (id >> BUCKET_BITS)
INDEXED_PREFIX = 10
BUCKET_BITS = 16
# a bucket's posting costs about a ninth of a word's when both are read for one query (GIN
# skips through the bucket's with the word's). Measured at a million units: words in 1.3 %
# of them took 59-66 ms at once, 83-95 ms by bucket; words in 6 % 91-105 ms at once, 78-93
# ms by bucket; in 14 % and more 140-250 at once, 57-79 by bucket (see _by_bucket)
BUCKET_POSTING_COST = 1 / 9
TERMS_OF = "magazin_search_terms(d.vector, d.unit_id)"  # of a vector row `d`: as indexed
# the columns of its unit a vector row carries (migration 0014), by their names in
# catalog_unit (the unit's id is the row's unit_id)
VECTOR_UNIT_COLUMNS = ("id", "tenant_id", "fonds_id", "year_from", "year_to", "open_from",
                       "formats")  # fmt: skip
_UNIT_COLUMN = re.compile(r'"?catalog_unit"?\."?(\w+)"?')  # a unit's column, in SQL
_LEXEME = re.compile(r"'((?:[^']|'')*)'")


def _postgresql_terms(cursor, tsquery: str) -> tuple[str, str, int | None, int | None]:
    """The query for the index of prefixes (its words as PostgreSQL parses them, cut to
    INDEXED_PREFIX letters), the recheck on the vector a longer word needs, and the first
    and last unit id indexed."""
    cursor.execute(
        f"SELECT to_tsquery('simple', %s)::text, min(unit_id), max(unit_id) FROM {VECTORS}",
        [tsquery],
    )
    parsed, first, last = cursor.fetchone()
    lexemes = [m.replace("''", "'") for m in _LEXEME.findall(parsed)]
    quoted = [w[:INDEXED_PREFIX].replace("\\", "\\\\").replace("'", "''") for w in lexemes]
    terms = " & ".join(f"'{w}'" for w in quoted) or "''"
    longer = any(len(w) > INDEXED_PREFIX for w in lexemes)
    recheck = " AND d.vector @@ to_tsquery('simple', %s)" if longer else ""
    return terms, recheck, first, last


def _by_bucket(cursor, terms: str, units: int, cap: int) -> bool:
    """Whether to ask bucket by bucket. A GIN scan reads every posting of its words, so a
    query matching E units costs about E; asked by bucket, each bucket costs about its size
    B, and CAP matches take about CAP / (E / units * B) buckets. Buckets are cheaper when E
    exceeds the square root of CAP times the units times the cost of a bucket's posting
    relative to a word's (BUCKET_POSTING_COST; E: the planner's estimate, from the
    statistics ANALYZE keeps of the index: its 10,000 most common lexemes, migration 0014)."""
    cursor.execute(
        f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {VECTORS} d WHERE {TERMS_OF} @@ %s::tsquery",
        [terms],
    )
    plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    expected = plan[0]["Plan"]["Plan Rows"]
    return expected * expected > cap * units * BUCKET_POSTING_COST


class SearchResult:
    """Matches of a full-text search, best first: counted (up to CAP), sliced a page at a
    time (the units with `score`), and faceted through `matched`.

    One query does it all: the full-text index yields the matches in the scope (at most CAP)
    with their scores and what the facets count; only these leave the index, and the count,
    every page and the facets come from them, so the full-text query runs once per request,
    however the result is used.

    SQLite (tantivy, fulltext.py): the best CAP of all matches, the scope a filter in the
    index where it is a staff member's tenant or a reader's (closure periods, releases and
    grants); any other scope (filters, a queryset of the caller's) is checked in the catalog
    for the best matches, a batch at a time, until CAP are in it. PostgreSQL: the first CAP
    matches the index yields, ranked (see _postgresql_rows). `every_unit`: `units` had no
    condition before the filters."""

    def __init__(self, units, ws: list[str], cap: int = CAP, tenant_id: int | None = None,
                 reader: tuple[int, object] | None = None, filters: dict | None = None,
                 every_unit: bool = False):  # fmt: skip
        self.units, self.cap = units, cap
        self._hits: list[tuple] | None = None
        filters = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
        if connection.vendor == "sqlite":
            self._within_index(ws, tenant_id, reader, filters, every_unit)
            return
        if filters:
            tenant_id = None  # the filters are on the units
        self._own_row = False  # the scope read from the vector row (see _postgresql_rows)
        if tenant_id is not None:  # every unit of one tenant
            where_units, unit_params = "catalog_unit.tenant_id = %s", [tenant_id]
            self._own_row = True
        elif _on_the_unit_alone(units):
            # conditions on the unit alone (a reader's scope): on the joined row itself
            compiler = units.query.get_compiler(connection=connection)
            try:
                where_units, unit_params = compiler.compile(units.query.where)
                unit_params = list(unit_params)
            except FullResultSet:  # no condition: every unit
                where_units, unit_params = "1 = 1", []
            self._own_row = set(_UNIT_COLUMN.findall(where_units)) <= set(VECTOR_UNIT_COLUMNS)
        else:  # the match must be one of `units` (joins: filters): looked up match by match
            one = units.order_by().extra(where=["catalog_unit.id = m.id"]).values("pk")
            sql, unit_params = one.query.sql_with_params()
            where_units = f"EXISTS ({sql})"
        self._tsquery = " & ".join(f"{w}:*" for w in ws)
        self._tenant_id = tenant_id
        self._columns, self._column_params = _facet_key()
        self._where_units, self._unit_params = where_units, unit_params

    def _within_index(self, ws, tenant_id, reader, filters: dict, every_unit: bool) -> None:
        """SQLite: what the tantivy index selects by (the scope and filters as _filter and
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
        """(unit id, score, …) of every match, best first: on PostgreSQL the facet key (see
        _facet_key); on SQLite the fonds, decade, opening day and formats."""
        if self._hits is None:
            if connection.vendor == "postgresql":
                rows = self._postgresql_rows()
            else:
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
        if connection.vendor == "postgresql":
            return _facet_groups(self._ranked())
        rows = self._ranked()
        # open to all from its day on (fulltext._UNIT_ROWS); counted by C, not a Python loop
        is_open = map(self._today.toordinal().__ge__, map(itemgetter(4), rows))
        fonds, decades, formats = (map(itemgetter(i), rows) for i in (2, 3, 5))
        keys = Counter(zip(fonds, decades, is_open, formats, strict=True))
        return _with_fonds_codes(keys.items())

    def _postgresql_rows(self) -> list[tuple]:
        """The matches on PostgreSQL, the first CAP of them ranked (each vector read once).

        They are looked up in the index of prefixes (migration 0013) for all units at once,
        or bucket by bucket when the query's words are in so many units that reading all
        their postings would cost more than the first buckets do. Where the scope and the
        facets need no more of a unit than its vector row carries (migration 0014: a staff
        member's tenant, a reader's closure periods), the matches are read under the name
        `catalog_unit`, and the conditions compiled for units apply to them as they are;
        otherwise each match's unit is joined."""
        # SET LOCAL needs a transaction (SQLite's would take the write lock: not there)
        with transaction.atomic(), connection.cursor() as c:
            # the planner overestimates prefix matches and would scan every unit to join
            # them; a few thousand key look-ups are far cheaper. No parallel workers (nor
            # compiling it: JIT) for a query of some milliseconds; bitmaps kept exact (a
            # lossy one rechecks whole pages by computing their prefixes again), and never
            # the prefixes computed unit by unit instead of reading their index.
            c.execute(
                "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; "
                "SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off; "
                "SET LOCAL work_mem = '64MB'; SET LOCAL enable_seqscan = off"
            )
            terms, recheck, first, last = _postgresql_terms(c, self._tsquery)
            recheck_params = [self._tsquery] if recheck else []
            condition, buckets, bucket_params = f"{TERMS_OF} @@ %s::tsquery{recheck}", "", []
            if first is not None and _by_bucket(c, terms, last - first + 1, self.cap):
                buckets = "generate_series(%s, %s) b CROSS JOIN LATERAL "
                bucket_params = [first >> BUCKET_BITS, last >> BUCKET_BITS]
                bucket = "('''§' || b || '''')::tsquery"  # the lexeme '§<b>'
                condition = f"{TERMS_OF} @@ (%s::tsquery && {bucket}){recheck}"
            inner, inner_params = "TRUE", []
            where_units, unit_params = self._where_units, self._unit_params
            if self._tenant_id is not None:  # the vector row knows the tenant
                inner, inner_params, where_units, unit_params = (
                    "d.tenant_id = %s", [self._tenant_id], "TRUE", [])  # fmt: skip
            if self._own_row:
                row, join = "catalog_unit", ""
                carried = "".join(f", d.{c}" for c in VECTOR_UNIT_COLUMNS[1:])
            else:
                row, join, carried = "m", "JOIN catalog_unit ON catalog_unit.id = m.id", ""
            # OFFSET 0 keeps the matches a query of their own, read from the index of
            # prefixes first: the planner would otherwise go through the units and compute
            # each one's prefixes to test it (it cannot know that an exact bitmap needs no
            # recheck)
            sql = (
                f"SELECT {row}.id, ts_rank({row}.vector, to_tsquery('simple', %s)), "
                f"{self._columns} FROM {buckets}(SELECT d.unit_id AS id, d.vector{carried} "
                f"FROM {VECTORS} d WHERE {condition} AND {inner} OFFSET 0) {row} {join} "
                f"WHERE {where_units} LIMIT {self.cap}"
            )
            c.execute(sql, [self._tsquery, *self._column_params, *bucket_params, terms,
                            *recheck_params, *inner_params, *unit_params])  # fmt: skip
            return c.fetchall()

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
