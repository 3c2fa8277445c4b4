"""The full-text index: tantivy (a Lucene-like engine in Rust, PyPI `tantivy`) in
MAGAZIN_HOME/search, derived from the catalog's search documents as the catalog is derived
from storage; on SQLite and on PostgreSQL alike.

Why not SQLite's FTS5 any more: at a million units every query that reaches the cap of
10,000 matches paid per match for BM25 (its IDF alone counts every row of a common prefix
first), for the look-up of the unit and for building its facet key, 95-155 ms at the 95th
percentile. tantivy ranks all matches of such a query in 1-11 ms and reads the facets'
columns of the best 10,000 from its column store. Why not PostgreSQL's own full-text search
any more (access migration 0016): GIN yields neither the count nor the facets without
reading each match's row, and `ts_rank` reads its vector; at 10,000 matches that was
70-85 ms in the database alone.

What it keeps of FTS5's matching rules: the text is folded before it comes here (search.fold),
a query word matches every word it begins. A word's prefixes of up to PREFIX letters are
indexed as terms of their own (`body`), so a prefix is one posting list; a longer query word
is checked against the whole words (`long`, only words longer than PREFIX).

How it follows the catalog: triggers (access migrations 0015, 0016) note in a journal every
unit whose search document, indexed columns, releases or grants changed, in the transaction
that changed them.
`catch_up` brings the index to the journal's end: it re-reads those units and replaces their
documents, commits (atomically: tantivy writes new segments, then its meta.json), and only
then records the journal position it reached (state.json). A process killed at any point
leaves the last commit and an older position, so the next catch-up does the rest again; that
is harmless, a unit's document is replaced, never added twice. A catalog the index was not
built from (rebuilt, restored, new) is indexed afresh into a new folder, and searches use
the old one until the new one is complete. One process writes at a time (a lock file); the
others search what is committed meanwhile.

Several machines sharing one PostgreSQL catalog each keep an index of their own. Each notes
in the catalog how far it has followed (`magazin_search_follower`); the journal is pruned up
to what every index seen in the last FOLLOWED_DAYS has, and an index left behind that is
built afresh. PostgreSQL numbers entries as they are written, not as they are committed: an
entry may become visible after entries with higher numbers, so an index also remembers the
transactions in progress when it read the journal (their entries carry `txid`) and reads
their entries next time, whatever their numbers.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

import tantivy
from django.db import connection
from django.db.models.expressions import RawSQL

from magazin.core.atomic import write_atomically

PREFIX = 10  # a word's prefixes of up to this many letters are terms of their own
LONGEST = 200  # a whole word (`long`) is kept up to this many letters (a term is < 64 KB)
VERSION = 1  # of the schema and the terms: an index of another version is built afresh
JOURNAL = "magazin_search_journal"  # access migration 0015
CATALOG = "magazin_search_catalog"
FOLLOWERS = "magazin_search_follower"  # access migration 0016
FOLLOWED_DAYS = 30  # an index not seen following the journal for longer is not waited for
BATCH = 1000  # units read from the catalog at a time
# how long a search waits for another process building the index from nothing (a million
# units take about five minutes); with an index there it waits `wait` and searches that
FIRST_BUILD_WAIT = 900.0
_TOKEN = re.compile(r"[^\W_]+")  # as FTS5's unicode61: letters and digits, "_" separates


def terms(text: str) -> tuple[str, str]:
    """The `body` (every word's prefixes up to PREFIX letters) and `long` (whole words longer
    than PREFIX) of a folded text, as whitespace-separated terms."""
    body, long = [], []
    for w in _TOKEN.findall(text):
        n = len(w)
        if n > PREFIX:
            body += [w[:k] for k in range(1, PREFIX + 1)]
            long.append(w[:LONGEST])
        else:
            body += [w[:k] for k in range(1, n + 1)]
    return " ".join(body), " ".join(long)


def query_words(ws: list[str]) -> list[str]:
    """A query's words as the index splits them (search.words keeps "_" inside a word)."""
    return [t for w in ws for t in _TOKEN.findall(w)]


def formats_key(formats: str) -> int:
    """A unit's set of formats (catalog_unit.formats) as a number for the column store."""
    if not formats:
        return 0
    return int.from_bytes(hashlib.blake2b(formats.encode(), digest_size=7).digest(), "big")


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    for name in ("unit", "tenant", "fonds", "year_from", "year_to", "decade", "open_from",
                 "formats"):  # fmt: skip
        sb.add_integer_field(name, indexed=True, fast=True)  # open_from: date.toordinal()
    sb.add_integer_field("grants", indexed=True)  # grant_key of each grant in force
    sb.add_text_field("puids", tokenizer_name="whitespace", index_option="basic")
    sb.add_text_field("body", tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("long", tokenizer_name="whitespace", index_option="basic")
    return sb.build()


SCHEMA = _schema()


@dataclass(frozen=True)
class Within:
    """The units a search may return. Of `tenant` (any if None). When `reader` (a user's
    key) is set: open to every reader on `open_on` (closure period over, or released), or
    granted to this reader then. The search's filters: in one of `fonds`; years overlapping
    `years` (from, to; either None); `open_to_all` on `open_on` or, if False, not."""

    tenant: int | None = None
    open_on: dt.date = field(default_factory=dt.date.today)
    reader: int | None = None
    fonds: frozenset[int] | None = None
    years: tuple[int | None, int | None] = (None, None)
    open_to_all: bool | None = None


@dataclass
class Matches:
    """Matches best first, as columns: unit ids, scores, and what the facets count."""

    total: int
    units: list[int]
    scores: list[float]
    fonds: list[int | None]
    decade: list[int | None]
    open_from: list[int]  # the day it opens to every reader (see _UNIT_ROWS)
    formats: list[str]


@contextmanager
def _locked(path: Path, wait: float) -> Iterator[bool]:
    """An exclusive lock on `path`, waited for up to `wait` seconds: whether it was got."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.02)
        yield True
    finally:
        os.close(fd)  # closing releases the lock


def _write_json(path: Path, data) -> None:
    """Replace a small file whole (a reader sees the old or the new, never a part)."""
    write_atomically(path, json.dumps(data).encode(), durable=True)


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def decade(year: int | None) -> int | None:
    """The decade a year is in, as SQL's integer division counts it (-15 is in -10)."""
    return None if year is None else int(year / 10) * 10


NEVER = dt.date.max.toordinal()
_DAY_BITS = 22  # every day's ordinal is below 2**22


def grant_key(reader: int, expires: int) -> int:
    """A grant as one number: its reader, then the last day it is in force (an ordinal), so
    that one range of numbers holds a reader's grants in force on a day."""
    return reader << _DAY_BITS | expires


def _day(value) -> int:
    if value is None:
        return NEVER
    return (value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))).toordinal()


# what a unit's document is made of. Its opening day is the day it opens to every reader
# (scope.open_to_all): its closure period's end, the first day there is if a release in
# force opened it, the last there is if it is closed until an archivist decides (NEVER). So
# one range of days selects the units closed today, and the facets count the open ones. Its
# grants not revoked, as "reader:expires" (scope.grants: in force until they expire).
_UNIT_ROWS = (
    "SELECT d.unit_id, d.tenant_id, d.metadata, d.content, u.fonds_id, u.year_from, "
    "u.year_to, CASE WHEN EXISTS (SELECT 1 FROM magazin_access_release r WHERE "
    "r.unit_id = u.id AND r.withdrawn IS NULL) THEN '0001-01-01' ELSE u.open_from END, "
    "u.formats, (SELECT {grants} FROM "
    "magazin_access_grant g WHERE g.unit_id = u.id AND g.revoked IS NULL) "
    "FROM magazin_access_searchdoc d JOIN catalog_unit u ON u.id = d.unit_id "
)
_GRANTS = {
    "sqlite": "group_concat(g.reader_id || ':' || g.expires)",
    "postgresql": "string_agg(g.reader_id || ':' || to_char(g.expires, 'YYYY-MM-DD'), ',')",
}


def id_list(ids: list[int]) -> RawSQL:
    """A subquery yielding these ids, one parameter whatever their number (SQLite: a JSON
    array; PostgreSQL: an array)."""
    if connection.vendor == "sqlite":
        return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])
    return RawSQL("SELECT unnest(%s::bigint[])", [ids])


def _unit_rows() -> str:
    return _UNIT_ROWS.format(grants=_GRANTS[connection.vendor])


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


@dataclass(frozen=True)
class _Position:
    """Where the journal ends: the catalog's identity, the last entry pruned, the last entry,
    and (PostgreSQL) the transactions in progress when it was read, whose entries may come
    later with lower numbers (a sequence numbers entries as they are written, not as they
    are committed), and whether any entry of the transactions the index last noted as in
    progress is there now."""

    identity: str
    pruned: int
    seq: int
    pending: list[str]
    pending_committed: bool


class FullTextIndex:
    """The index of one data folder (MAGAZIN_HOME/search): catch_up, then matches."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._guard = threading.Lock()
        self._state: dict | None = None  # what the open index was built to (state.json)
        self._index: tantivy.Index | None = None
        self._searcher: tantivy.Searcher | None = None
        self._formats: dict[int, str] = {}
        self._sole_tenant: int | None = None  # the tenant of every live document, if one

    # -- following the catalog --------------------------------------------------------------

    def _position(self, pending: list[str]) -> _Position:
        """Where the journal ends, read in one snapshot (see _Position)."""
        with connection.cursor() as c:
            if connection.vendor == "postgresql":
                c.execute(f"SELECT c.identity, c.pruned, greatest(c.pruned, (SELECT max(seq) "
                          f"FROM {JOURNAL})), ARRAY(SELECT pg_snapshot_xip(pg_current_snapshot())"
                          f"::text), EXISTS (SELECT 1 FROM {JOURNAL} WHERE txid = "
                          f"ANY(%s::xid8[])) FROM {CATALOG} c", [pending])  # fmt: skip
                return _Position(*c.fetchone())
            # the entries pruned count as read (an empty journal has no last entry)
            c.execute(f"SELECT identity, pruned, max(pruned, coalesce((SELECT max(seq) FROM "
                      f"{JOURNAL}), 0)) FROM {CATALOG}")  # fmt: skip
            return _Position(*c.fetchone(), [], False)

    def catch_up(self, wait: float = 30.0, prune: bool = False) -> int:
        """Index the units the journal names since the last catch-up (all units, if the
        index was built from another catalog or not at all); how many were (re)indexed.
        Another process catching up holds the lock: waited for up to `wait` seconds, then
        the search goes on with what is committed (with nothing committed yet, for up to
        FIRST_BUILD_WAIT). `prune`: drop the journal's entries every index has (a write to
        the catalog: on SQLite not from a search)."""
        state = _read_json(self.folder / "state.json")
        at = self._position((state or {}).get("pending", []))
        done = 0
        if not self._current(state, at):
            self.folder.mkdir(parents=True, exist_ok=True)
            if not self._usable(state, at.identity):  # nothing to search meanwhile: wait
                wait = max(wait, FIRST_BUILD_WAIT)
            with _locked(self.folder / "writer.lock", wait) as got:
                state = _read_json(self.folder / "state.json")  # another may have caught up
                at = self._position((state or {}).get("pending", []))
                if got and not self._current(state, at):
                    state, done = self._index_changes(state, at)
                    if connection.vendor == "postgresql":  # other machines prune too
                        self._record(state)
        try:
            self._open(state)
        except ValueError:  # tantivy cannot open it (damaged): built afresh
            with _locked(self.folder / "writer.lock", wait) as got:
                state, done = self._index_changes(None, at) if got else (None, 0)
            self._open(state)
        if prune and state and state.get("catalog") == at.identity:
            self._record(state)
            self._prune()
        return done

    def _usable(self, state: dict | None, identity: str) -> bool:
        """Whether `state` names an index of this catalog and version that is there."""
        return (
            bool(state)
            and (state.get("version"), state.get("catalog")) == (VERSION, identity)
            and (self.folder / state.get("dir", "-") / "meta.json").is_file()
        )

    def _current(self, state: dict | None, at: _Position) -> bool:
        """Whether `state` is usable and has every entry of the journal at `at` (an index
        ahead of the journal is not: see _index_changes)."""
        return (
            self._usable(state, at.identity)
            and state.get("seq", -1) == at.seq
            and not at.pending_committed
        )

    def _follower(self) -> str:
        """This index folder's name among the indexes following the journal (several
        machines may share one PostgreSQL catalog), made once."""
        path = self.folder / "follower"
        if not path.exists():  # made whole beside it, then linked: the first process's wins
            made = self.folder / f".follower.{secrets.token_hex(4)}"
            write_atomically(made, secrets.token_hex(16).encode(), durable=True)
            try:
                os.link(made, path)
            except FileExistsError:
                pass
            finally:
                made.unlink()
        return path.read_text().strip()

    def _record(self, state: dict) -> None:
        """Note in the catalog how far this index has followed the journal."""
        row = [self._follower(), socket.gethostname()[:255], str(self.folder), state["seq"],
               json.dumps(state.get("pending", [])), _now()]  # fmt: skip
        with connection.cursor() as c:
            c.execute(f"INSERT INTO {FOLLOWERS} (name, host, folder, seq, pending, seen) "
                      "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET "
                      "host = excluded.host, folder = excluded.folder, seq = excluded.seq, "
                      "pending = excluded.pending, seen = excluded.seen", row)  # fmt: skip

    @staticmethod
    def _prune() -> None:
        """Drop the journal's entries that every index noted in the last FOLLOWED_DAYS has;
        an index not seen since is built afresh when it is next searched (_current)."""
        since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=FOLLOWED_DAYS)).isoformat()
        with connection.cursor() as c:
            c.execute(f"DELETE FROM {FOLLOWERS} WHERE seen < %s", [since])
            c.execute(f"SELECT seq, pending FROM {FOLLOWERS}")
            followers = c.fetchall()
            if not followers:
                return
            low = min(seq for seq, _p in followers)
            pending = sorted({x for _seq, p in followers for x in json.loads(p)})
            if connection.vendor == "postgresql":  # an open transaction's entries stay
                c.execute(f"DELETE FROM {JOURNAL} WHERE seq <= %s AND "
                          "NOT (txid = ANY(%s::xid8[]))", [low, pending])  # fmt: skip
            else:
                c.execute(f"DELETE FROM {JOURNAL} WHERE seq <= %s", [low])
            c.execute(f"UPDATE {CATALOG} SET pruned = %s WHERE pruned < %s", [low, low])

    def _index_changes(self, state: dict | None, at: _Position) -> tuple[dict, int]:
        """Under the writer lock: the journal's changes since `state` (or every unit into a
        new folder), committed, then the new state recorded."""
        # built afresh, too, when entries it has not read were pruned, or when it is ahead of
        # the journal: a catalog restored from a backup, or a search that saw the changes
        # of a transaction later rolled back
        fresh = not self._usable(state, at.identity) or not at.pruned <= state["seq"] <= at.seq
        if fresh:
            name = f"index-{secrets.token_hex(4)}"
            (self.folder / name).mkdir()
            index = tantivy.Index(SCHEMA, path=str(self.folder / name))
            formats: dict[str, str] = {}
        else:
            name = state["dir"]
            index = tantivy.Index.open(str(self.folder / name))
            formats = _read_json(self.folder / name / "formats.json") or {}
        writer = index.writer(heap_size=200_000_000 if fresh else 50_000_000, num_threads=1)
        done = 0
        rows = _unit_rows()
        if fresh:
            last = 0
            while True:
                with connection.cursor() as c:
                    c.execute(rows + f"WHERE d.unit_id > %s ORDER BY d.unit_id LIMIT {BATCH}",
                              [last])  # fmt: skip
                    batch = c.fetchall()
                if not batch:
                    break
                done += self._add(writer, batch, formats)
                last = batch[-1][0]
        else:
            with connection.cursor() as c:
                if state.get("pending"):  # entries of transactions then in progress, too
                    c.execute(f"SELECT DISTINCT unit_id FROM {JOURNAL} WHERE (seq > %s AND "
                              "seq <= %s) OR txid = ANY(%s::xid8[])",
                              [state["seq"], at.seq, state["pending"]])  # fmt: skip
                else:
                    c.execute(f"SELECT DISTINCT unit_id FROM {JOURNAL} WHERE seq > %s AND "
                              "seq <= %s", [state["seq"], at.seq])  # fmt: skip
                units = [u for (u,) in c.fetchall()]
            for i in range(0, len(units), BATCH):
                batch = units[i : i + BATCH]
                for u in batch:  # a deletion applies to the documents added before it
                    writer.delete_documents_by_term("unit", u)
                with connection.cursor() as c:
                    ids = id_list(batch)
                    c.execute(rows + f"WHERE d.unit_id IN ({ids.sql})", ids.params)
                    self._add(writer, c.fetchall(), formats)
                done += len(batch)
        # the formats the new documents name are on disk before they are committed
        _write_json(self.folder / name / "formats.json", formats)
        writer.commit()
        writer.wait_merging_threads()
        new = {"version": VERSION, "catalog": at.identity, "seq": at.seq, "dir": name,
               "pending": at.pending}  # fmt: skip
        _write_json(self.folder / "state.json", new)
        if fresh:  # the folders of earlier catalogs or versions: nobody opens them any more
            for old in self.folder.glob("index-*"):
                if old.name != name:
                    shutil.rmtree(old, ignore_errors=True)
        return new, done

    @staticmethod
    def _add(writer: tantivy.IndexWriter, rows, formats: dict[str, str]) -> int:
        for unit, tenant, metadata, content, fonds, y_from, y_to, open_from, puids, granted in rows:
            body, long = terms(f"{metadata}\n{content}")
            key = formats_key(puids or "")
            formats[str(key)] = puids or ""
            doc = {"unit": unit, "tenant": tenant, "formats": key, "puids": puids or "",
                   "body": body, "long": long}  # fmt: skip
            columns = {"fonds": fonds, "year_from": y_from, "year_to": y_to,
                       "decade": decade(y_from), "open_from": _day(open_from)}  # fmt: skip
            for name, value in columns.items():
                if value is not None:
                    doc[name] = value
            if granted:  # "reader:expires,…"
                pairs = (g.split(":") for g in granted.split(","))
                doc["grants"] = [grant_key(int(r), _day(e)) for r, e in pairs]
            writer.add_document(tantivy.Document(**doc))
        return len(rows)

    def _open(self, state: dict | None) -> None:
        """Search the commit `state` names (or a newer one) from now on."""
        with self._guard:
            if not state:
                self._index = self._searcher = None
                self._state = None
                return
            if self._index is None or self._state is None or self._state["dir"] != state["dir"]:
                self._index = tantivy.Index.open(str(self.folder / state["dir"]))
            elif self._state == state and self._searcher is not None:
                return
            self._index.reload()
            self._searcher = self._index.searcher()
            # read after the reload: it names at least the formats of what was committed
            formats = _read_json(self.folder / state["dir"] / "formats.json") or {}
            self._formats = {int(k): v for k, v in formats.items()}
            # counted over the live documents: a replaced one stays in the postings (and in
            # doc_freq) until its segment is merged
            by_tenant = self._searcher.aggregate(
                tantivy.Query.all_query(), {"t": {"terms": {"field": "tenant", "size": 2**16}}}
            )
            tenants = [b["key"] for b in by_tenant["t"]["buckets"] if b["doc_count"]]
            self._sole_tenant = int(tenants[0]) if len(tenants) == 1 else None
            self._state = state

    def documents(self) -> int:
        """How many units the index holds, brought up to date."""
        self.catch_up()
        with self._guard:
            return 0 if self._searcher is None else self._searcher.num_docs

    # -- searching --------------------------------------------------------------------------

    def _text(self, ws: list[str]) -> tantivy.Query:
        """Every word as a prefix: its first PREFIX letters as a term of `body` (ranked), a
        longer word also as the beginning of a whole word of `long` (not ranked)."""
        Q, Must = tantivy.Query, tantivy.Occur.Must  # noqa: N806
        clauses = []
        for w in ws:
            clauses.append((Must, Q.term_query(SCHEMA, "body", w[:PREFIX])))
            if len(w) > PREFIX:
                whole = Q.regex_query(SCHEMA, "long", re.escape(w[:LONGEST]) + ".*")
                clauses.append((Must, Q.const_score_query(whole, 0.0)))
        return Q.boolean_query(clauses)

    @staticmethod
    def _parts(w: Within, sole_tenant: int | None) -> list[list]:
        """The scope and filters as clauses that select without changing the scores: one
        list, or two for a reader (the units open to every reader, and those granted to the
        reader and closed: one query with either took three times as long).

        The units closed today are excluded rather than the open ones selected: a range of
        the inverted index (the closure periods' ends still to come) read into a bit set is
        tested per match in no time, a range of the column store costs a look-up per match.
        The tenant of every live document is no condition."""
        Q, Must, MustNot = tantivy.Query, tantivy.Occur.Must, tantivy.Occur.MustNot  # noqa: N806

        def between(name: str, low: int | None, high: int | None, inverted: bool = False):
            return Q.range_query(SCHEMA, name, tantivy.FieldType.Integer, low, high,
                                 use_inverted_index=inverted)  # fmt: skip

        closed = between("open_from", w.open_on.toordinal() + 1, None, inverted=True)
        clauses = []
        if w.tenant is not None and w.tenant != sole_tenant:
            clauses.append((Must, Q.term_query(SCHEMA, "tenant", w.tenant)))
        if w.fonds is not None:
            fonds = Q.term_set_query(SCHEMA, "fonds", [*w.fonds]) if w.fonds else Q.empty_query()
            clauses.append((Must, fonds))
        if w.years[0] is not None:  # the date range ends in or after the first year
            clauses.append((Must, between("year_to", w.years[0], None)))
        if w.years[1] is not None:  # and begins in or before the last
            clauses.append((Must, between("year_from", None, w.years[1])))
        if w.open_to_all is not None:
            clauses.append((MustNot if w.open_to_all else Must, closed))
        parts = [clauses]
        if w.reader is not None:
            parts = [[*clauses, (MustNot, closed)]]
            if w.open_to_all is not True:  # in force today: expiring today or later
                first, last = (grant_key(w.reader, d) for d in (w.open_on.toordinal(), NEVER))
                granted = between("grants", first, last, inverted=True)
                parts.append([*clauses, (Must, granted), (Must, closed)])
        return [[(o, q if o != Must else Q.const_score_query(q, 0.0)) for o, q in part]
                for part in parts]  # fmt: skip

    def matches(self, ws: list[str], within: Within, limit: int, offset: int = 0) -> Matches:
        """The best `limit` matches (after `offset`) of every word of `ws` in `within`."""
        with self._guard:
            searcher, formats, sole = self._searcher, self._formats, self._sole_tenant
        ws = query_words(ws)
        if searcher is None or not ws or limit <= 0:
            return Matches(0, [], [], [], [], [], [])
        text = (tantivy.Occur.Must, self._text(ws))
        parts = self._parts(within, sole)
        total, hits = 0, []
        for part in parts:  # disjoint: their counts add up
            found = searcher.search(tantivy.Query.boolean_query([text, *part]),
                                    offset + limit, count=True)  # fmt: skip
            total += found.count
            hits += found.hits
        if len(parts) > 1:
            hits.sort(key=itemgetter(0), reverse=True)
        hits = hits[offset : offset + limit]
        at = [a for _score, a in hits]
        column = searcher.fast_field_values
        return Matches(
            total=total,
            units=column("unit", at),
            scores=[s for s, _a in hits],
            fonds=column("fonds", at),
            decade=column("decade", at),
            open_from=column("open_from", at),
            formats=[formats.get(k, "") for k in column("formats", at)],
        )


_INDEXES: dict[Path, FullTextIndex] = {}
_INDEXES_GUARD = threading.Lock()


def index_in(home: Path) -> FullTextIndex:
    """The full-text index of the data folder `home`, opened once per process."""
    folder = Path(home) / "search"
    with _INDEXES_GUARD:
        if folder not in _INDEXES:
            _INDEXES[folder] = FullTextIndex(folder)
        return _INDEXES[folder]
