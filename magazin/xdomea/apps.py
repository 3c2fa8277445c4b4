from django.apps import AppConfig


class Config(AppConfig):
    name = "magazin.xdomea"
    label = "xdomea"
    verbose_name = "xdomea"

    def ready(self) -> None:
        """Follow the catalog's rebuild through its seam (catalog/signals.py)."""
        from magazin.catalog import signals

        from . import keeping

        def restore(sender, home, items, **kwargs) -> None:
            keeping.restore(home, items)

        signals.records_read.connect(restore, weak=False, dispatch_uid="magazin.xdomea.restore")
