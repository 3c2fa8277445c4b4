from django.apps import AppConfig


class Config(AppConfig):
    name = "magazin.access"
    label = "magazin_access"

    def ready(self) -> None:
        from magazin.catalog.signals import aip_read

        from .services import sync_decisions

        def decisions_of(sender, root, desc, **kwargs) -> None:
            sync_decisions(root, desc.rights)

        aip_read.connect(decisions_of, weak=False, dispatch_uid="magazin.access.decisions")
