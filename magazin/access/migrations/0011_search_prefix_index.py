"""SQLite: the full-text table again, with FTS5 prefix indexes for prefixes of one to six
letters, refilled from the search documents. A prefix query without one merges the
postings of every word beginning with it (at a million units, a second for a common
prefix); with one it reads a single list and stops at the first 10,000 matches."""

from django.db import migrations

PREFIX_FTS = (
    "CREATE VIRTUAL TABLE magazin_search_fts USING fts5("
    "body, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3 4 5 6')"
)
PLAIN_FTS = (
    "CREATE VIRTUAL TABLE magazin_search_fts USING fts5("
    "body, tokenize = 'unicode61 remove_diacritics 2')"
)
REFILL = (
    "INSERT INTO magazin_search_fts(rowid, body) SELECT unit_id, metadata || char(10) || content "
    "FROM magazin_access_searchdoc"
)


def _recreate(schema_editor, create: str) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute("DROP TABLE IF EXISTS magazin_search_fts")
    schema_editor.execute(create)
    schema_editor.execute(REFILL)


def with_prefixes(apps, schema_editor):
    _recreate(schema_editor, PREFIX_FTS)


def without_prefixes(apps, schema_editor):
    _recreate(schema_editor, PLAIN_FTS)


class Migration(migrations.Migration):
    dependencies = [("magazin_access", "0010_decision_statements")]

    operations = [migrations.RunPython(with_prefixes, without_prefixes)]
