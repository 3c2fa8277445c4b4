"""PostgreSQL searches the tantivy index too (access/fulltext.py), kept by the same journal,
written by triggers in PL/pgSQL; its own full-text search goes (the vectors, the index of
prefixes, the copies of the units' columns: migrations 0012-0014).

Why: at a million units PostgreSQL's search spent 70-85 ms in the database for a query
reaching 10,000 matches (a heap page and a `ts_rank` per match, GIN gives neither count nor
facets without them) and 25-40 ms in Python, 108-186 ms at the 95th percentile; the index of
prefixes made loading nine times slower (bench/README, fifth round). The tantivy index
answers the same searches in 28-60 ms and is built in the background.

Several machines may share one PostgreSQL catalog, each with its own index in its
MAGAZIN_HOME (the catalog's derivative, as the catalog is storage's). So, on both databases:
- each index records how far it has followed the journal (`magazin_search_follower`), and
  the journal is pruned only up to the position every index recorded in the last 30 days has
  reached; an index behind what was pruned (`magazin_search_catalog.pruned`) is built
  afresh;
- PostgreSQL numbers the journal's entries when they are written, not when they are
  committed: an entry's transaction (`txid`) is kept with it, and an index remembers the
  transactions in progress when it read the journal (fulltext.FullTextIndex).
A TRUNCATE of the search documents (it fires no row triggers) makes the catalog a new one:
every index is built afresh."""

import importlib

from django.db import migrations

# the columns whose change the journal notes: the same as SQLite's triggers watch
_0015 = importlib.import_module("magazin.access.migrations.0015_search_index_journal")
UNIT_COLUMNS, DOC_COLUMNS, GRANT_COLUMNS = (_0015.UNIT_COLUMNS, _0015.DOC_COLUMNS,
                                            _0015.GRANT_COLUMNS)  # fmt: skip


def _changed(columns) -> str:
    return " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)


def _note_function(column: str) -> str:
    return (
        f"CREATE FUNCTION magazin_search_note_{column}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF TG_OP <> 'DELETE' THEN "
        f"INSERT INTO magazin_search_journal (unit_id) VALUES (NEW.{column}); END IF; "
        "IF TG_OP = 'DELETE' THEN "
        f"INSERT INTO magazin_search_journal (unit_id) VALUES (OLD.{column}); "
        f"ELSIF TG_OP = 'UPDATE' THEN IF OLD.{column} IS DISTINCT FROM NEW.{column} THEN "
        f"INSERT INTO magazin_search_journal (unit_id) VALUES (OLD.{column}); END IF; END IF; "
        "RETURN NULL; END $$"
    )


def _trigger(name: str, when: str, table: str, column: str, condition: str = "") -> str:
    condition = f"WHEN ({condition}) " if condition else ""
    return (f"CREATE TRIGGER magazin_search_{name} AFTER {when} ON {table} FOR EACH ROW "
            f"{condition}EXECUTE FUNCTION magazin_search_note_{column}()")  # fmt: skip


NEW_CATALOG = "md5(random()::text || clock_timestamp()::text)"

PG_CREATE = [
    # PostgreSQL's own full-text search (0012-0014)
    "DROP TRIGGER IF EXISTS magazin_search_unit_changed ON catalog_unit",
    "DROP FUNCTION IF EXISTS magazin_search_unit_changed()",
    "DROP TRIGGER IF EXISTS magazin_search_vector_forget ON magazin_access_searchdoc",
    "DROP TRIGGER IF EXISTS magazin_search_vector_clear ON magazin_access_searchdoc",
    "DROP FUNCTION IF EXISTS magazin_search_vector_forget()",
    "DROP FUNCTION IF EXISTS magazin_search_vector_clear()",
    "DROP TABLE IF EXISTS magazin_search_vector",
    "DROP FUNCTION IF EXISTS magazin_search_vector_unit()",
    "DROP FUNCTION IF EXISTS magazin_search_terms(tsvector, bigint)",
    # the journal, as on SQLite (0015), with each entry's transaction
    "CREATE TABLE magazin_search_catalog (identity text NOT NULL, pruned bigint NOT NULL "
    "DEFAULT 0)",
    f"INSERT INTO magazin_search_catalog (identity) VALUES ({NEW_CATALOG})",
    "CREATE TABLE magazin_search_journal (seq bigserial PRIMARY KEY, "
    "txid xid8 NOT NULL DEFAULT pg_current_xact_id(), unit_id bigint NOT NULL)",
    "CREATE INDEX magazin_search_journal_txid ON magazin_search_journal (txid)",
    # a row of the unit's (its id in `unit_id`; catalog_unit's own: `id`) noted; a row
    # moved to another unit notes both
    _note_function("unit_id"),
    _note_function("id"),
    _trigger("doc_added", "INSERT", "magazin_access_searchdoc", "unit_id"),
    _trigger(
        "doc_changed",
        "UPDATE",
        "magazin_access_searchdoc",
        "unit_id",
        _changed((*DOC_COLUMNS, "unit_id")),
    ),  # fmt: skip
    _trigger("doc_removed", "DELETE", "magazin_access_searchdoc", "unit_id"),
    _trigger("unit_changed", "UPDATE", "catalog_unit", "id", _changed((*UNIT_COLUMNS, "id"))),
    _trigger("unit_removed", "DELETE", "catalog_unit", "id"),
    _trigger("release_added", "INSERT", "magazin_access_release", "unit_id"),
    _trigger(
        "release_changed",
        "UPDATE",
        "magazin_access_release",
        "unit_id",
        _changed(("withdrawn", "unit_id")),
    ),  # fmt: skip
    _trigger("release_removed", "DELETE", "magazin_access_release", "unit_id"),
    _trigger("grant_added", "INSERT", "magazin_access_grant", "unit_id"),
    _trigger(
        "grant_changed", "UPDATE", "magazin_access_grant", "unit_id", _changed(GRANT_COLUMNS)
    ),  # fmt: skip
    _trigger("grant_removed", "DELETE", "magazin_access_grant", "unit_id"),
    "CREATE FUNCTION magazin_search_new_catalog() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN UPDATE magazin_search_catalog SET identity = {NEW_CATALOG}, pruned = 0; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER magazin_search_new_catalog AFTER TRUNCATE ON magazin_access_searchdoc "
    "FOR EACH STATEMENT EXECUTE FUNCTION magazin_search_new_catalog()",
]
PG_DROP = [
    *(
        f"DROP TRIGGER IF EXISTS magazin_search_{name} ON {table}"
        for name, table in (
            ("doc_added", "magazin_access_searchdoc"),
            ("doc_changed", "magazin_access_searchdoc"),
            ("doc_removed", "magazin_access_searchdoc"),
            ("unit_changed", "catalog_unit"),
            ("unit_removed", "catalog_unit"),
            ("release_added", "magazin_access_release"),
            ("release_changed", "magazin_access_release"),
            ("release_removed", "magazin_access_release"),
            ("grant_added", "magazin_access_grant"),
            ("grant_changed", "magazin_access_grant"),
            ("grant_removed", "magazin_access_grant"),
            ("new_catalog", "magazin_access_searchdoc"),
        )
    ),  # fmt: skip
    "DROP FUNCTION IF EXISTS magazin_search_note_unit_id()",
    "DROP FUNCTION IF EXISTS magazin_search_note_id()",
    "DROP FUNCTION IF EXISTS magazin_search_new_catalog()",
    "DROP TABLE IF EXISTS magazin_search_journal",
    "DROP TABLE IF EXISTS magazin_search_catalog",
]
# both: where each index has followed the journal to (fulltext.FullTextIndex.catch_up)
FOLLOWER = (
    "CREATE TABLE magazin_search_follower (name varchar(64) PRIMARY KEY, host varchar(255) "
    "NOT NULL, folder text NOT NULL, seq bigint NOT NULL, pending text NOT NULL, "
    "seen varchar(32) NOT NULL)"
)
SQLITE_CREATE = [
    FOLLOWER,
    "ALTER TABLE magazin_search_catalog ADD COLUMN pruned INTEGER NOT NULL DEFAULT 0",
]
SQLITE_DROP = [
    "DROP TABLE IF EXISTS magazin_search_follower",
    "ALTER TABLE magazin_search_catalog DROP COLUMN pruned",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": [*PG_CREATE, FOLLOWER], "sqlite": SQLITE_CREATE}[vendor]
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    """PostgreSQL: its own full-text search again, its vectors computed from the search
    documents (as 0012-0014 did)."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql)
        return
    for sql in ["DROP TABLE IF EXISTS magazin_search_follower", *PG_DROP]:
        schema_editor.execute(sql)
    for name, statements in (("0012_search_vectors", "CREATE"),
                             ("0013_search_prefix_terms", "PG_CREATE"),
                             ("0014_search_vector_unit_columns", "CREATE")):  # fmt: skip
        module = importlib.import_module(f"magazin.access.migrations.{name}")
        for sql in getattr(module, statements):
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("magazin_access", "0015_search_index_journal")]

    operations = [migrations.RunPython(forwards, backwards)]
