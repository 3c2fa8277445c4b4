"""One stored object read again into the catalog: after a change that a killed run left for
`Storage.recover` to complete, the catalog follows what storage now holds."""

from __future__ import annotations

from django.db import transaction

from magazin.core.aip.builder import read_aip, read_record_xml
from magazin.core.config import Home
from magazin.core.ids import is_log_id
from magazin.core.storage.store import Storage

from .models import Unit
from .rebuild import fonds_from_record, tenant_from_record
from .services import DERIVED, apply_closure, record_new_events, replace_files
from .signals import aip_read, described
from .storage import archive_storage


def refresh_object(storage: Storage, tenant: str, object_id: str) -> None:
    """The catalog rows of one object as its head version describes them."""
    if is_log_id(object_id):
        return  # evidence only, no catalog rows
    obj = storage.open(tenant, object_id)
    desc = read_aip(obj)
    with transaction.atomic():
        if desc.kind in ("tenant", "fonds"):
            path = next(p for p, t in desc.source_metadata if t and t.startswith("magazin-"))
            record = read_record_xml(obj.read(path))
            (tenant_from_record if desc.kind == "tenant" else fonds_from_record)(record)
            return
        root = Unit.objects.filter(ocfl_id=object_id).select_related("tenant").first()
        if root is None:
            return  # not catalogued (an ingest's journal completes it)
        nodes = {f"{tenant}-{n.ulid}": n for c in desc.children for n in c.walk()}
        units = [root, *Unit.objects.filter(aid__in=nodes).select_related("tenant")]
        for u in units:
            d = desc if u.pk == root.pk else nodes[u.aid]
            extra = dict(d.extra)
            if u.parent_id is not None:
                extra["kind"] = u.extra.get("kind", getattr(d, "kind", ""))
            u.title, u.dc, u.extra = d.title, d.dc, extra
        apply_closure(units)
        for u in units:
            u.save(update_fields=["title", "dc", "extra", *DERIVED])
        replace_files(root, desc)
        record_new_events(root, desc.events)
        aip_read.send(None, root=root, desc=desc)
        described.send(None, units=units, new=False)


def recover(home: Home, storage: Storage | None = None) -> list[str]:
    """Complete the changes killed runs left, the catalog following (see Storage.recover)."""
    storage = storage or archive_storage(home)
    return storage.recover(lambda tenant, oid: refresh_object(storage, tenant, oid))
