"""PostgreSQL: the search vectors in a table of their own, uncompressed.

The stored vector was a generated column of the search documents, whose rows also hold the
folded text and the snippet source: those rows are wide, and PostgreSQL compressed the
vectors with them (pglz), so that every match cost a decompression - at 10,000 matches most
of a search's time. In `magazin_search_vector` (unit, tenant, vector; storage EXTERNAL: never
compressed, moved out of line only when large) a vector is read as it lies."""

from django.db import migrations

CREATE = [
    "CREATE TABLE magazin_search_vector ("
    " unit_id bigint PRIMARY KEY REFERENCES catalog_unit (id) ON DELETE CASCADE,"
    " tenant_id bigint NOT NULL, vector tsvector NOT NULL)",
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
    "DROP TABLE IF EXISTS magazin_search_vector",
]


def _run(schema_editor, statements: list[str]) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for sql in statements:
            schema_editor.execute(sql)


def forwards(apps, schema_editor):
    _run(schema_editor, CREATE)


def backwards(apps, schema_editor):
    _run(schema_editor, DROP)


class Migration(migrations.Migration):
    dependencies = [("magazin_access", "0011_search_prefix_index"), ("catalog", "0015_unit_formats")]

    operations = [migrations.RunPython(forwards, backwards)]
