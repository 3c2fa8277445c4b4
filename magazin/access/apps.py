from django.apps import AppConfig


class Config(AppConfig):
    name = "magazin.access"
    label = "magazin_access"

    def ready(self) -> None:
        """Follow the catalog through its seam (catalog/signals.py)."""
        from magazin.catalog import signals

        from . import closure, search, services

        def closure_of(sender, units, **kwargs) -> None:
            closure.apply(units)

        def index(sender, units, new, **kwargs) -> None:
            (search.index_units if new else search.reindex_metadata)(units)

        def decisions_of(sender, root, desc, **kwargs) -> None:
            services.sync_decisions(root, desc.rights)

        def access_of(sender, unit, **kwargs) -> dict:
            return {"access": services.access_status(unit)}

        for signal, receiver in (
            (signals.describing, closure_of),
            (signals.described, index),
            (signals.aip_read, decisions_of),
            (signals.detail, access_of),
        ):
            signal.connect(receiver, weak=False, dispatch_uid=f"magazin.access.{receiver.__name__}")
