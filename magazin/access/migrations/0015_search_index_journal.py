"""SQLite: the full-text index moves out of the database into a tantivy index in
MAGAZIN_HOME/search (access/fulltext.py). The database keeps what it is derived from: the
search documents, and a journal of the units whose indexed state changed since, written by
triggers on the search documents and on the unit columns the index carries (tenant, fonds,
years, closure, formats), on releases (a released unit is indexed as open since always)
and on grants (a unit carries its readers' grants in force), so that no path that changes
them can forget the index. The FTS5
table goes (at a million units 2.8 GB), and so does the index of the units' search columns
FTS5's matches were joined through (catalog 0016: the tantivy index holds those columns
itself). PostgreSQL keeps its own full-text search: nothing changes there."""

from django.db import migrations

UNIT_COLUMNS = ("tenant_id", "fonds_id", "year_from", "year_to", "open_from", "formats")
DOC_COLUMNS = ("tenant_id", "metadata", "content")
GRANT_COLUMNS = ("unit_id", "reader_id", "expires", "revoked")


def _changed(columns) -> str:
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)


def _note(unit: str) -> str:
    return f"BEGIN INSERT INTO magazin_search_journal (unit_id) VALUES ({unit}); END"


CREATE = [
    # which catalog the index was built from: a rebuilt or restored catalog is a new one
    "CREATE TABLE magazin_search_catalog (identity TEXT NOT NULL)",
    "INSERT INTO magazin_search_catalog VALUES (lower(hex(randomblob(16))))",
    # AUTOINCREMENT: a number is never used twice, so "indexed up to seq" stays true
    "CREATE TABLE magazin_search_journal "
    "(seq INTEGER PRIMARY KEY AUTOINCREMENT, unit_id INTEGER NOT NULL)",
    "CREATE TRIGGER magazin_search_doc_added AFTER INSERT ON magazin_access_searchdoc "
    + _note("NEW.unit_id"),
    f"CREATE TRIGGER magazin_search_doc_changed AFTER UPDATE ON magazin_access_searchdoc "
    f"WHEN {_changed(DOC_COLUMNS)} " + _note("NEW.unit_id"),
    "CREATE TRIGGER magazin_search_doc_removed AFTER DELETE ON magazin_access_searchdoc "
    + _note("OLD.unit_id"),
    f"CREATE TRIGGER magazin_search_unit_changed AFTER UPDATE ON catalog_unit "
    f"WHEN {_changed(UNIT_COLUMNS)} " + _note("NEW.id"),
    "CREATE TRIGGER magazin_search_unit_removed AFTER DELETE ON catalog_unit " + _note("OLD.id"),
    "CREATE TRIGGER magazin_search_release_added AFTER INSERT ON magazin_access_release "
    + _note("NEW.unit_id"),
    "CREATE TRIGGER magazin_search_release_changed AFTER UPDATE ON magazin_access_release "
    "WHEN OLD.withdrawn IS NOT NEW.withdrawn OR OLD.unit_id IS NOT NEW.unit_id "
    "BEGIN INSERT INTO magazin_search_journal (unit_id) VALUES (OLD.unit_id), (NEW.unit_id); END",
    "CREATE TRIGGER magazin_search_release_removed AFTER DELETE ON magazin_access_release "
    + _note("OLD.unit_id"),
    "CREATE TRIGGER magazin_search_grant_added AFTER INSERT ON magazin_access_grant "
    + _note("NEW.unit_id"),
    "CREATE TRIGGER magazin_search_grant_changed AFTER UPDATE ON magazin_access_grant "
    f"WHEN {_changed(GRANT_COLUMNS)} "
    "BEGIN INSERT INTO magazin_search_journal (unit_id) VALUES (OLD.unit_id), (NEW.unit_id); END",
    "CREATE TRIGGER magazin_search_grant_removed AFTER DELETE ON magazin_access_grant "
    + _note("OLD.unit_id"),
    "DROP TRIGGER IF EXISTS magazin_search_fts_forget",  # of 0012
    "DROP TABLE IF EXISTS magazin_search_fts",
    "DROP INDEX IF EXISTS catalog_unit_search_facets",
]
DROP = [
    "CREATE INDEX IF NOT EXISTS catalog_unit_search_facets ON catalog_unit "
    "(id, tenant_id, fonds_id, year_from, year_to, open_from, formats)",
    *(f"DROP TRIGGER IF EXISTS magazin_search_{t}" for t in
      ("doc_added", "doc_changed", "doc_removed", "unit_changed", "unit_removed",
       "release_added", "release_changed", "release_removed", "grant_added",
       "grant_changed", "grant_removed")),  # fmt: skip
    "DROP TABLE IF EXISTS magazin_search_journal",
    "DROP TABLE IF EXISTS magazin_search_catalog",
    "CREATE VIRTUAL TABLE magazin_search_fts USING fts5("
    "body, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3 4 5 6 7 8 9 10')",
    "INSERT INTO magazin_search_fts(rowid, body) SELECT unit_id, metadata || char(10) || content "
    "FROM magazin_access_searchdoc",
    "CREATE TRIGGER magazin_search_fts_forget AFTER DELETE ON magazin_access_searchdoc "
    "BEGIN DELETE FROM magazin_search_fts WHERE rowid = OLD.unit_id; END",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in CREATE:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("magazin_access", "0014_search_vector_unit_columns")]

    operations = [migrations.RunPython(forwards, backwards)]
