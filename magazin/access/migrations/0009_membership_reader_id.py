"""Every member gets a reader pseudonym (grants name readers in AIPs by it, never by name)."""

from django.db import migrations, models

from magazin.core.ids import new_reader_id


def fill(apps, schema_editor):
    Membership = apps.get_model("magazin_access", "Membership")
    for m in Membership.objects.filter(reader_id=None):
        m.reader_id = new_reader_id()
        m.save(update_fields=["reader_id"])


class Migration(migrations.Migration):
    dependencies = [("magazin_access", "0008_api_tokens")]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="reader_id",
            field=models.CharField(max_length=60, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="membership",
            name="reader_id",
            field=models.CharField(default=new_reader_id, max_length=60, unique=True),
        ),
    ]
