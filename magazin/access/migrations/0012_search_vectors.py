"""PostgreSQL: the search vectors in a table of their own, uncompressed. Both databases:
an index row is deleted with its search document (by trigger).

The stored vector was a generated column of the search documents, whose rows also hold the
folded text and the snippet source: those rows are wide, and PostgreSQL compressed the
vectors with them (pglz), so that every match cost a decompression - at 10,000 matches most
of a search's time. In `magazin_search_vector` (unit, tenant, vector; storage EXTERNAL: never
compressed, moved out of line only when large) a vector is read as it lies."""

from django.db import migrations

CREATE = [
    # no foreign key (TRUNCATE of the catalog, as Django's test flush does it, would refuse
    # it): a vector goes with its search document, by trigger
    "CREATE TABLE magazin_search_vector ("
    " unit_id bigint PRIMARY KEY, tenant_id bigint NOT NULL, vector tsvector NOT NULL)",
    "CREATE FUNCTION magazin_search_vector_forget() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN DELETE FROM magazin_search_vector WHERE unit_id = OLD.unit_id; RETURN NULL; "
    "END $$",
    "CREATE TRIGGER magazin_search_vector_forget AFTER DELETE ON magazin_access_searchdoc "
    "FOR EACH ROW EXECUTE FUNCTION magazin_search_vector_forget()",
    "CREATE FUNCTION magazin_search_vector_clear() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN TRUNCATE magazin_search_vector; RETURN NULL; END $$",
    "CREATE TRIGGER magazin_search_vector_clear AFTER TRUNCATE ON magazin_access_searchdoc "
    "FOR EACH STATEMENT EXECUTE FUNCTION magazin_search_vector_clear()",
    "ALTER TABLE magazin_search_vector ALTER COLUMN vector SET STORAGE EXTERNAL",
    "INSERT INTO magazin_search_vector (unit_id, tenant_id, vector) "
    "SELECT unit_id, tenant_id, to_tsvector('simple', metadata || ' ' || content) "
    "FROM magazin_access_searchdoc",
    "CREATE INDEX magazin_search_vector_gin ON magazin_search_vector USING gin (vector)",
    "CREATE INDEX magazin_search_vector_tenant ON magazin_search_vector (tenant_id)",
    "DROP INDEX IF EXISTS magazin_search_gin",
    "ALTER TABLE magazin_access_searchdoc DROP COLUMN IF EXISTS vector",
]
DROP = [
    "ALTER TABLE magazin_access_searchdoc ADD COLUMN IF NOT EXISTS vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', metadata || ' ' || content)) STORED",
    "CREATE INDEX IF NOT EXISTS magazin_search_gin ON magazin_access_searchdoc "
    "USING gin (vector)",
    "DROP TRIGGER IF EXISTS magazin_search_vector_forget ON magazin_access_searchdoc",
    "DROP TRIGGER IF EXISTS magazin_search_vector_clear ON magazin_access_searchdoc",
    "DROP FUNCTION IF EXISTS magazin_search_vector_forget()",
    "DROP FUNCTION IF EXISTS magazin_search_vector_clear()",
    "DROP TABLE IF EXISTS magazin_search_vector",
]


# SQLite: the FTS5 row goes with its search document too (a rebuild left them behind)
SQLITE_CREATE = [
    "CREATE TRIGGER magazin_search_fts_forget AFTER DELETE ON magazin_access_searchdoc "
    "BEGIN DELETE FROM magazin_search_fts WHERE rowid = OLD.unit_id; END",
    "DELETE FROM magazin_search_fts WHERE rowid NOT IN "
    "(SELECT unit_id FROM magazin_access_searchdoc)",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS magazin_search_fts_forget"]


def _run(schema_editor, statements: dict[str, list[str]]) -> None:
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def forwards(apps, schema_editor):
    _run(schema_editor, {"postgresql": CREATE, "sqlite": SQLITE_CREATE})


def backwards(apps, schema_editor):
    _run(schema_editor, {"postgresql": DROP, "sqlite": SQLITE_DROP})


class Migration(migrations.Migration):
    dependencies = [("magazin_access", "0011_search_prefix_index"), ("catalog", "0015_unit_formats")]

    operations = [migrations.RunPython(forwards, backwards)]
