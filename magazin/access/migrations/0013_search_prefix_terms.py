"""Prefixes of up to ten letters looked up as words of their own, on both databases.

SQLite: FTS5 prefix indexes for prefixes of one to ten letters (they were one to six). A
query word of seven to ten letters was matched by merging the postings of every word it
begins (at a million units, 40 words and 200,000 postings for a place name like
"Stadtberg"), and BM25 merged them a second time to count them; now it reads one list.

PostgreSQL: a GIN index over `magazin_search_terms(vector, unit_id)`: each word's prefixes of
one to ten letters as lexemes, and the unit's bucket (its id divided by 65,536) as a lexeme
"§<n>" no word can be. A prefix query on the vector's own index expanded to every word it
begins, and a GIN index scan always reads the whole posting list into a bitmap; now a
prefix is one posting list, and a query for a word in most units is asked bucket by bucket,
so it reads the postings of the first buckets only (search.SearchResult). The vector keeps
its words and positions for ranking (ts_rank), unchanged."""

from django.db import migrations

PREFIXES = "1 2 3 4 5 6 7 8 9 10"
FTS_WITH = (
    "CREATE VIRTUAL TABLE magazin_search_fts USING fts5("
    "body, tokenize = 'unicode61 remove_diacritics 2', prefix = '{}')"
)
REFILL = (
    "INSERT INTO magazin_search_fts(rowid, body) SELECT unit_id, metadata || char(10) || content "
    "FROM magazin_access_searchdoc"
)


def _sqlite_prefixes(prefixes: str) -> list[str]:
    return ["DROP TABLE IF EXISTS magazin_search_fts", FTS_WITH.format(prefixes), REFILL]


TERMS_FUNCTION = (
    "CREATE OR REPLACE FUNCTION magazin_search_terms(vector tsvector, unit_id bigint) "
    # COST: computing it row by row (a scan of the table instead of its index) costs more
    # than 0.1 ms a unit; so the planner's estimate says
    "RETURNS tsvector LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 10000 AS $$ "
    "SELECT array_to_tsvector(ARRAY(SELECT unnest(ARRAY[left(w, 1), left(w, 2), left(w, 3), "
    "left(w, 4), left(w, 5), left(w, 6), left(w, 7), left(w, 8), left(w, 9), left(w, 10)]) "
    "FROM unnest(tsvector_to_array(vector)) w) || ('§' || (unit_id >> 16))) $$"
)
PG_CREATE = [
    TERMS_FUNCTION,
    "CREATE INDEX magazin_search_terms_gin ON magazin_search_vector "
    "USING gin (magazin_search_terms(vector, unit_id))",
    "DROP INDEX IF EXISTS magazin_search_vector_gin",
    "ANALYZE magazin_search_vector",
]
PG_DROP = [
    "CREATE INDEX IF NOT EXISTS magazin_search_vector_gin ON magazin_search_vector "
    "USING gin (vector)",
    "DROP INDEX IF EXISTS magazin_search_terms_gin",
    "DROP FUNCTION IF EXISTS magazin_search_terms(tsvector, bigint)",
]


def _run(schema_editor, statements: dict[str, list[str]]) -> None:
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def forwards(apps, schema_editor):
    _run(schema_editor, {"sqlite": _sqlite_prefixes(PREFIXES), "postgresql": PG_CREATE})


def backwards(apps, schema_editor):
    _run(schema_editor, {"sqlite": _sqlite_prefixes("1 2 3 4 5 6"), "postgresql": PG_DROP})


class Migration(migrations.Migration):
    dependencies = [("magazin_access", "0012_search_vectors")]

    operations = [migrations.RunPython(forwards, backwards)]
