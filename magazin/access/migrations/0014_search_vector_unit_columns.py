"""PostgreSQL: each search vector carries the columns of its unit that a search reads (fonds,
years, closure, formats), kept equal to the unit's by triggers.

A search reads, for each of up to 10,000 matches, its unit's fonds, decade, closure and
formats (the facets) and, for a reader, the closure again (the scope). Looked up in
`catalog_unit` match by match, that was a third of a search's time at a million units; from
the vector's own row, which the search reads anyway for ranking, it costs next to nothing.

The copies are the database's business, not the application's: a unit's row is changed by
ingest, corrections, closure decisions, migrations and the rebuild, and a trigger on it sees
every one of them. A vector row takes its unit's columns when it is written; a changed unit
writes them into its vector row. SQLite: nothing (FTS5 looks units up in the index of their
search columns, catalog 0016).

PostgreSQL also keeps more statistics of the index of prefixes (see below)."""

from django.db import migrations

# the unit's columns a vector row carries (search.VECTOR_UNIT_COLUMNS, besides its id and
# tenant, which it had)
COLUMNS = ("fonds_id", "year_from", "year_to", "open_from", "formats")
_SET = ", ".join(f"{c} = u.{c}" for c in COLUMNS)
_CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in (*COLUMNS, "tenant_id"))

CREATE = [
    "ALTER TABLE magazin_search_vector ADD COLUMN fonds_id bigint, "
    "ADD COLUMN year_from smallint, ADD COLUMN year_to smallint, ADD COLUMN open_from date, "
    "ADD COLUMN formats text NOT NULL DEFAULT ''",
    # filled without the index of prefixes, which each new row version would otherwise enter
    # into one by one; built again afterwards
    "DROP INDEX IF EXISTS magazin_search_terms_gin",
    f"UPDATE magazin_search_vector v SET {_SET} FROM catalog_unit u WHERE u.id = v.unit_id",
    "CREATE INDEX magazin_search_terms_gin ON magazin_search_vector "
    "USING gin (magazin_search_terms(vector, unit_id))",
    # a vector row written: its unit's columns as they are
    "CREATE FUNCTION magazin_search_vector_unit() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN SELECT " + ", ".join(f"u.{c}" for c in COLUMNS) + " INTO "
    + ", ".join(f"NEW.{c}" for c in COLUMNS)
    + " FROM catalog_unit u WHERE u.id = NEW.unit_id; "
    "NEW.formats = COALESCE(NEW.formats, ''); RETURN NEW; END $$",
    "CREATE TRIGGER magazin_search_vector_unit BEFORE INSERT ON magazin_search_vector "
    "FOR EACH ROW EXECUTE FUNCTION magazin_search_vector_unit()",
    # a unit changed: its vector row's copies with it
    "CREATE FUNCTION magazin_search_unit_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN UPDATE magazin_search_vector SET tenant_id = NEW.tenant_id, "
    + ", ".join(f"{c} = NEW.{c}" for c in COLUMNS)
    + " WHERE unit_id = NEW.id; RETURN NULL; END $$",
    "CREATE TRIGGER magazin_search_unit_changed AFTER UPDATE ON catalog_unit FOR EACH ROW "
    f"WHEN ({_CHANGED}) EXECUTE FUNCTION magazin_search_unit_changed()",
    # the planner's estimate of a word's matches decides whether to ask bucket by bucket
    # (search._by_bucket); with ten prefixes to a word, the default statistics keep only
    # the 1,000 most common lexemes - prefixes in more than ~14 % of the units at a million -
    # and guess 0.5 % for the rest. 1,000 keeps 10,000 of them (those above ~1 %).
    "ALTER INDEX magazin_search_terms_gin ALTER COLUMN 1 SET STATISTICS 1000",
    "ANALYZE magazin_search_vector",
]
DROP = [
    "DROP TRIGGER IF EXISTS magazin_search_unit_changed ON catalog_unit",
    "DROP FUNCTION IF EXISTS magazin_search_unit_changed()",
    "DROP TRIGGER IF EXISTS magazin_search_vector_unit ON magazin_search_vector",
    "DROP FUNCTION IF EXISTS magazin_search_vector_unit()",
    "ALTER TABLE magazin_search_vector "
    + ", ".join(f"DROP COLUMN IF EXISTS {c}" for c in COLUMNS),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in CREATE:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("magazin_access", "0013_search_prefix_terms"),
        ("catalog", "0016_unit_search_facets"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
