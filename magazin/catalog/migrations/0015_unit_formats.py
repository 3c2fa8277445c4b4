"""Unit.formats: the PRONOM ids of each unit's files, filled from the files catalogued."""

from django.db import migrations, models

BATCH = 10_000


def fill(apps, schema_editor):
    """Unit by unit range, so that a million units need no more memory than ten thousand."""
    unit_model = apps.get_model("catalog", "Unit")
    file_model = apps.get_model("catalog", "File")
    last = 0
    while True:
        ids = list(unit_model.objects.filter(pk__gt=last).order_by("pk")
                   .values_list("pk", flat=True)[:BATCH])  # fmt: skip
        if not ids:
            return
        found: dict[int, set[str]] = {}
        rows = (file_model.objects.filter(representation__unit_id__gte=ids[0],
                                          representation__unit_id__lte=ids[-1])
                .values_list("representation__unit_id", "puid").distinct())  # fmt: skip
        for unit_id, puid in rows:
            found.setdefault(unit_id, set()).add(puid or "unknown")
        units = [unit_model(pk=pk, formats=" ".join(sorted(puids))) for pk, puids in found.items()]
        unit_model.objects.bulk_update(units, ["formats"], batch_size=1000)
        last = ids[-1]


class Migration(migrations.Migration):
    dependencies = [("catalog", "0014_journal_index")]

    operations = [
        migrations.AddField(
            model_name="unit",
            name="formats",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
