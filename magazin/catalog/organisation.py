"""How an archive is organised: tenants (with name, time zone and language), the tenant's
classification (Tektonik: groups with signatures) and its fonds (Bestände) in the groups.

Every change is a new version of the tenant's or the fonds' OCFL object (its record fields),
so that `magazin catalog rebuild` restores them; the catalog follows."""

from __future__ import annotations

import re
import zoneinfo

from django.conf import settings
from django.db import transaction

from magazin.core.config import Home
from magazin.core.i18n import N_
from magazin.core.ids import now, valid_slug
from magazin.core.records import store_record, update_record

from .models import ClassificationGroup, Fonds, Tenant
from .services import CatalogError, natural_key, parse_time
from .storage import archive_storage

LANGUAGES = [code for code, _name in settings.LANGUAGES]
# a group's signature: letters, digits, '.', '-', '_' (A, A2, 1.3, II-b)
_SIGNATURE = re.compile(r"^(?!\.+$)[\w.\-]{1,40}$")
GROUP_FIELD = "group:"  # the tenant record's field per classification group


def _check_settings(time_zone: str, language: str) -> None:
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CatalogError(
            N_("time zone {zone!r}: not a zone of the tz database (e.g. Europe/Berlin)").format(
                zone=time_zone
            )
        ) from None
    if language not in LANGUAGES:
        raise CatalogError(
            N_("language {language!r}: one of {languages}").format(
                language=language, languages=", ".join(LANGUAGES)
            )
        )


# -- tenants ---------------------------------------------------------------------------------


def create_tenant(
    home: Home,
    slug: str,
    name: str,
    user: str,
    time_zone: str = "Europe/Berlin",
    language: str = "de",
) -> Tenant:
    if not valid_slug(slug):
        raise CatalogError(
            N_(
                "tenant {slug!r}: use lower-case letters, digits and '-' (at most 63, starting "
                "with a letter or digit)"
            ).format(slug=slug)
        )
    if not name.strip():
        raise CatalogError(N_("a tenant needs a name"))
    _check_settings(time_zone, language)
    if Tenant.objects.filter(slug=slug).exists():
        raise CatalogError(N_("tenant {slug!r} exists already").format(slug=slug))
    created = now()
    store_record(
        archive_storage(home),
        kind="tenant",
        tenant=slug,
        key="tenant",
        title=name,
        dc={"title": [name], "identifier": [slug]},
        fields={
            "slug": slug,
            "name": name,
            "created": created,
            "time_zone": time_zone,
            "language": language,
        },  # fmt: skip
        user=user,
        event=("creation", N_("Tenant {slug} created").format(slug=slug)),
        created=created,
    )
    return Tenant.objects.create(slug=slug, name=name, created=parse_time(created),
                                 time_zone=time_zone, language=language)  # fmt: skip


def edit_tenant(
    home: Home,
    tenant: Tenant,
    user: str,
    name: str | None = None,
    time_zone: str | None = None,
    language: str | None = None,
) -> list[str]:
    """Change a tenant's name, time zone or language; returns what changed."""
    wanted = {"name": name, "time_zone": time_zone, "language": language}
    changes = {k: v.strip() for k, v in wanted.items() if v is not None and v.strip()
               and v.strip() != getattr(tenant, k)}  # fmt: skip
    if not changes:
        return []
    _check_settings(changes.get("time_zone", tenant.time_zone),
                    changes.get("language", tenant.language))  # fmt: skip
    said = "; ".join(f"{k}: {getattr(tenant, k)!r} → {v!r}" for k, v in changes.items())
    return _change(home, tenant, user, changes, kind="tenant", tenant=tenant.slug, key="tenant",
                   detail=N_("Tenant {slug} changed: {changes}").format(slug=tenant.slug,
                                                                       changes=said),
                   title=changes.get("name", tenant.name), identifier=tenant.slug)  # fmt: skip


def set_closure_profile(home: Home, tenant: Tenant, user: str, profile: str) -> bool:
    """The tenant's closure-period rules, kept in its OCFL object; False if unchanged."""
    return _set_setting(home, tenant, user, "closure_profile", profile,
                        N_("Tenant {slug}: closure-period rules {old} → {new}"))  # fmt: skip


INVALID_FILES = ("warn", "reject")


def set_invalid_files(home: Home, tenant: Tenant, user: str, choice: str) -> bool:
    """What an invalid file means at the tenant's ingests (warn: taken over and flagged;
    reject: the SIP goes to quarantine), kept in its OCFL object; False if unchanged."""
    if choice not in INVALID_FILES:
        raise CatalogError(N_("invalid files: one of {choices}").format(
            choices=", ".join(INVALID_FILES)))  # fmt: skip
    return _set_setting(home, tenant, user, "invalid_files", choice,
                        N_("Tenant {slug}: invalid files at ingest {old} → {new}"))  # fmt: skip


_ISIL = re.compile(r"^[A-Z]{2}-[A-Za-z0-9:/\-]{1,13}$")  # ISO 15511: country, '-', up to 16 in all


def set_publication(
    home: Home,
    tenant: Tenant,
    user: str,
    isil: str | None = None,
    archive_type: str | None = None,
    public_url: str | None = None,
    closed_descriptions: str | None = None,
    state: str | None = None,
) -> list[str]:
    """What the Archivportal-D needs to name the tenant and what it may show, kept in the
    tenant's OCFL object (one new version); returns what changed. An empty value clears
    a setting."""
    from magazin.interop.vocabulary import ARCHIVE_TYPES, CLOSED_DESCRIPTIONS, STATES

    wanted = {"isil": isil, "archive_type": archive_type, "state": state,
              "public_url": public_url, "closed_descriptions": closed_descriptions}  # fmt: skip
    changes = {k: v.strip() for k, v in wanted.items()
               if v is not None and v.strip() != getattr(tenant, k)}  # fmt: skip
    if changes.get("isil") and (not _ISIL.match(changes["isil"]) or len(changes["isil"]) > 16):
        raise CatalogError(N_("ISIL {isil!r}: a country code, '-' and the institution's "
                              "code, at most 16 characters (like DE-Mb112)").format(
                                  isil=changes["isil"]))  # fmt: skip
    if changes.get("archive_type") and changes["archive_type"] not in ARCHIVE_TYPES:
        raise CatalogError(N_("archive type {type!r}: one of {types}").format(
            type=changes["archive_type"], types=", ".join(ARCHIVE_TYPES)))  # fmt: skip
    if changes.get("state") and changes["state"] not in STATES:
        raise CatalogError(N_("federal state {state!r}: one of {states}").format(
            state=changes["state"], states=", ".join(STATES)))  # fmt: skip
    url = changes.get("public_url")
    if url:
        if not re.match(r"^https?://[^\s/?#]+[^\s]*$", url):
            raise CatalogError(N_("public address {url!r}: an http or https address like "
                                  "https://archiv.example.org").format(url=url))  # fmt: skip
        changes["public_url"] = url.rstrip("/")
        if changes["public_url"] == tenant.public_url:
            del changes["public_url"]
    if "closed_descriptions" in changes and changes["closed_descriptions"] not in (
            CLOSED_DESCRIPTIONS):  # fmt: skip
        raise CatalogError(N_("closed descriptions: one of {choices}").format(
            choices=", ".join(CLOSED_DESCRIPTIONS)))  # fmt: skip
    if not changes:
        return []
    said = "; ".join(f"{k}: {getattr(tenant, k)!r} → {v!r}" for k, v in changes.items())
    if changes.get("closed_descriptions") == "omit" and tenant.closed_descriptions == "reduced":
        changes["reduced_ended"] = now()
    return _change(home, tenant, user, changes, kind="tenant", tenant=tenant.slug, key="tenant",
                   detail=N_("Tenant {slug}: publication {changes}").format(slug=tenant.slug,
                                                                           changes=said),
                   title=tenant.name, identifier=tenant.slug, publication=True)  # fmt: skip


def set_oai(home: Home, tenant: Tenant, user: str, enabled: bool) -> bool:
    """Switch the tenant's OAI-PMH interface on or off, kept in its OCFL object; False if
    unchanged. Switching it on changes what is published for every record."""
    if tenant.oai_enabled == enabled:
        return False
    from magazin.interop.vocabulary import portal_missing

    missing = portal_missing(tenant)
    if enabled and missing:
        raise CatalogError(N_("tenant {slug}: the Archivportal-D harvests only archives it can "
                              "name: set {what} first (magazin tenant set {slug} {what} …)")
                           .format(slug=tenant.slug, what=" and ".join(missing)))  # fmt: skip
    _change(home, tenant, user, {"oai_enabled": "on" if enabled else ""}, kind="tenant",
            tenant=tenant.slug, key="tenant",
            detail=(N_("Tenant {slug}: OAI-PMH interface on") if enabled else
                    N_("Tenant {slug}: OAI-PMH interface off")).format(slug=tenant.slug),
            title=tenant.name, identifier=tenant.slug, publication=True)  # fmt: skip
    return True


# the times a record keeps of its own changes (not settings a caller changed)
_STAMPS = ("changed", "publication_changed", "reduced_ended")


def _row_value(field: str, value):
    """A record field's value as its row holds it."""
    if field in _STAMPS:
        return parse_time(value)
    if field == "oai_enabled":
        return value == "on"
    return value


def _set_setting(home: Home, tenant: Tenant, user: str, field: str, value: str,
                 detail: str) -> bool:  # fmt: skip
    """One setting of the tenant, a new version of its OCFL object where it changes;
    `detail` names it with {slug}, {old} and {new}. False if unchanged."""
    old = getattr(tenant, field)
    if value == old:
        return False
    _change(home, tenant, user, {field: value}, kind="tenant", tenant=tenant.slug, key="tenant",
            detail=detail.format(slug=tenant.slug, old=old, new=value), title=tenant.name,
            identifier=tenant.slug)  # fmt: skip
    return True


def _change(
    home: Home,
    obj,
    user: str,
    changes: dict,
    *,
    kind: str,
    tenant: str,
    key: str,
    detail: str,
    title: str,
    identifier: str,
    publication: bool = False,
) -> list[str]:
    """A tenant's or fonds' changes: a new version of its OCFL object, then its row (with
    the time of the change, kept in the record too)."""
    stamp = now()
    changes = {**changes, "changed": stamp}
    if publication:
        changes["publication_changed"] = stamp
    update_record(
        archive_storage(home),
        kind=kind,
        tenant=tenant,
        key=key,
        fields={k: (v or None) for k, v in changes.items()},
        user=user,
        event=("metadata modification", detail),
        title=title,
        dc={"title": [title], "identifier": [identifier]},
    )
    for k, v in changes.items():
        setattr(obj, k, _row_value(k, v))
    obj.save(update_fields=list(changes))
    return [k for k in changes if k not in _STAMPS]


# -- classification (Tektonik) -----------------------------------------------------------------


def _clean_path(path: str) -> str:
    parts = [p.strip() for p in (path or "").strip().strip("/").split("/")]
    if not parts or not all(_SIGNATURE.match(p) for p in parts):
        raise CatalogError(
            N_(
                "group {path!r}: the signatures of the groups from the top, separated by '/' "
                "(like A/A2; letters, digits, '.', '-')"
            ).format(path=path)
        )
    return "/".join(parts)


def group_sort_key(path: str) -> str:
    return "/".join(natural_key(p) for p in path.split("/"))


def create_group(home: Home, tenant: Tenant, path: str, title: str, user: str):
    """A group of the classification; its parent group must exist."""
    path = _clean_path(path)
    if not title.strip():
        raise CatalogError(N_("a group needs a title"))
    groups = ClassificationGroup.objects.filter(tenant=tenant)
    if groups.filter(path=path).exists():
        raise CatalogError(N_("group {path} exists already").format(path=path))
    parent = path.rpartition("/")[0]
    if parent and not groups.filter(path=parent).exists():
        raise CatalogError(
            N_("group {path}: its parent group {parent} does not exist").format(
                path=path, parent=parent
            )
        )
    update_record(
        archive_storage(home),
        kind="tenant",
        tenant=tenant.slug,
        key="tenant",
        fields={GROUP_FIELD + path: title.strip(), "changed": (stamp := now())},
        user=user,
        event=("metadata modification",
               N_("Classification group {path} created: {title}").format(path=path, title=title)),
    )  # fmt: skip
    tenant.changed = parse_time(stamp)
    tenant.save(update_fields=["changed"])
    return ClassificationGroup.objects.create(
        tenant=tenant, path=path, title=title.strip(), sort_key=group_sort_key(path)
    )


def groups_from_record(fields: dict[str, str]) -> dict[str, str]:
    """The classification kept in a tenant record: group path -> title."""
    return {k[len(GROUP_FIELD) :]: v for k, v in fields.items() if k.startswith(GROUP_FIELD)}


def classification(tenant: Tenant) -> list[dict]:
    """The groups in order, each with its depth and its fonds; unclassified fonds last."""
    fonds = list(Fonds.objects.filter(tenant=tenant).order_by("code"))
    out = []
    for g in ClassificationGroup.objects.filter(tenant=tenant).order_by("sort_key"):
        mine = [f for f in fonds if f.group == g.path]
        out.append({"path": g.path, "signature": g.signature, "title": g.title,
                    "depth": g.depth, "fonds": mine})  # fmt: skip
    known = {g["path"] for g in out}
    loose = [f for f in fonds if f.group not in known]
    return out + ([{"path": "", "signature": "", "title": "", "depth": 0, "fonds": loose}]
                  if loose else [])  # fmt: skip


# -- fonds -------------------------------------------------------------------------------------


def _group_of(tenant: Tenant, group: str | None) -> str:
    if not group:
        return ""
    path = _clean_path(group)
    if not ClassificationGroup.objects.filter(tenant=tenant, path=path).exists():
        raise CatalogError(
            N_("no classification group {path} in {tenant}").format(path=path, tenant=tenant.slug)
        )
    return path


def create_fonds(
    home: Home, tenant: Tenant, code: str, title: str, user: str, group: str | None = None
) -> Fonds:
    if not code or "/" in code or len(code) > 100:
        raise CatalogError(N_("fonds code {code!r}: 1-100 characters, no '/'").format(code=code))
    if not title.strip():
        raise CatalogError(N_("a fonds needs a title"))
    if Fonds.objects.filter(tenant=tenant, code=code).exists():
        raise CatalogError(
            N_("fonds {code!r} exists already in tenant {slug}").format(code=code, slug=tenant.slug)
        )
    path = _group_of(tenant, group)
    created = now()
    fields = {"tenant": tenant.slug, "code": code, "title": title, "created": created}
    if path:
        fields["group"] = path
    store_record(
        archive_storage(home),
        kind="fonds",
        tenant=tenant.slug,
        key=code,
        fonds=code,
        title=title,
        dc={"title": [title], "identifier": [code]},
        fields=fields,
        user=user,
        event=("creation", N_("Fonds {code} created").format(code=code)),
        created=created,
    )
    return Fonds.objects.create(tenant=tenant, code=code, title=title, group=path,
                                created=parse_time(created))  # fmt: skip


@transaction.atomic
def edit_fonds(
    home: Home, fonds: Fonds, user: str, title: str | None = None, group: str | None = None
) -> list[str]:
    """Change a fonds' title or its place in the classification ("" = none); returns what
    changed."""
    changes: dict[str, str | None] = {}
    if title is not None and title.strip() and title.strip() != fonds.title:
        changes["title"] = title.strip()
    if group is not None:
        path = _group_of(fonds.tenant, group)
        if path != fonds.group:
            changes["group"] = path
    if not changes:
        return []
    said = "; ".join(f"{k}: {getattr(fonds, k)!r} → {v!r}" for k, v in changes.items())
    return _change(home, fonds, user, changes, kind="fonds", tenant=fonds.tenant.slug,
                   key=fonds.code,
                   detail=N_("Fonds {code} changed: {changes}").format(code=fonds.code,
                                                                      changes=said),
                   title=changes.get("title", fonds.title), identifier=fonds.code)  # fmt: skip
