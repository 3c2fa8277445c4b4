"""OAI-PMH 2.0 for one tenant: the repository the Archivportal-D harvests.

Records: every root unit (`oai_dc`), every fonds with its finding aid and the tenant's
classification (`ead_ddb`: the EAD(DDB) Findbuch and Tektonik; each also as `oai_dc`).
Identifiers are `oai:<repository_identifier>:<AID | fonds code | tektonik>`; sets are the
fonds. Only what may be published appears (`publication`).

A record's datestamp is derived, never stored, from what storage keeps - so a rebuild gives
the same answers: the latest of the unit's own events (a correction, an access decision), the
tenant's last change of what it publishes, and the days on which time changed what may be
published (the closure period's end, when its records open; the end of a protection for
persons or secrecy, when its description appears). A unit that may no longer be published and
may have been before (a decision or correction since its ingest, or the tenant's switch from
showing closed descriptions reduced to leaving them out) is reported deleted (`deletedRecord`
persistent); one never published is not named at all. Lists are ordered by (datestamp,
identifier); a resumption token carries the last one seen and the harvest's `until` (pinned at
its first request), so that a record changing during a harvest is found by the next one,
`from` that harvest's responseDate."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Exists, Max, OuterRef
from lxml import etree

from magazin.access.closure import PROFILES, params_from, protected_until
from magazin.access.models import Release
from magazin.catalog.models import Event, Fonds, Tenant, Unit

from . import ead
from .publication import FULL, REDUCED, publication
from .vocabulary import portal_missing

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
FORMATS = {
    "oai_dc": (OAI_DC, "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"),
    "ead_ddb": (ead.EAD, "https://github.com/Deutsche-Digitale-Bibliothek/ddb-metadata-ead"),
}
PAGE = {"oai_dc": 200, "ead_ddb": 5}  # records per answer; a Findbuch can be large
IDENTIFIERS_PAGE = 500
TEKTONIK = "tektonik"
_SET_SAFE = re.compile(r"[A-Za-z0-9\-_.!()'*]")
# the events after which a unit that may not be published now may have been before
_CHANGES = ("metadata modification", "policy assignment")
_CLOSED_TITLE = "Title withheld (closure period)"


class OaiError(Exception):
    """An OAI-PMH error condition (code as the protocol names it, and a message)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class Record:
    key: str  # AID, fonds code or "tektonik"
    kind: str  # unit | fonds | tektonik
    datestamp: dt.datetime
    sets: list[str] = field(default_factory=list)
    deleted: bool = False
    obj: object = None
    mode: str = FULL


def set_spec(code: str) -> str:
    """A fonds code as a setSpec (the spec's characters; others as ~XX of their UTF-8)."""
    return "".join(c if _SET_SAFE.match(c) else "".join(f"~{b:02X}" for b in c.encode())
                   for c in code)  # fmt: skip


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def _utc(t: dt.datetime | None) -> dt.datetime | None:
    return None if t is None else t.astimezone(dt.UTC).replace(microsecond=0)


def records(tenant: Tenant, now: dt.datetime) -> list[Record]:
    """Every record of the tenant's repository as it stands at `now`, ordered by
    (datestamp, identifier)."""
    day = now.date()
    profile = PROFILES[tenant.closure_profile]
    settings = _utc(tenant.publication_changed)
    reduced = _utc(tenant.reduced_ended)
    released = Exists(Release.objects.filter(unit=OuterRef("pk"), withdrawn__isnull=True))
    changed = Exists(Event.objects.filter(unit=OuterRef("pk"), type__in=_CHANGES))
    roots = (Unit.objects.filter(tenant=tenant, parent=None).select_related("tenant", "fonds")
             .annotate(released=released, decided=changed,
                       last=Max("events__datetime")))  # fmt: skip
    out: list[Record] = []
    fonds_latest: dict[int, dt.datetime] = {}
    for u in roots.iterator(chunk_size=2000):
        mode = publication(u, day, u.released)
        stamps = [_utc(u.created), _utc(u.last), settings]
        if u.open_from is not None and dt.date.min < u.open_from <= day:
            stamps.append(_midnight(u.open_from))
        until = protected_until(params_from(u.dc, u.extra), profile)
        if until is not None and dt.date.min < until <= day:
            stamps.append(_midnight(until))
        stamp = max(s for s in stamps if s is not None)
        if mode is None and not (u.decided or (reduced and reduced > _utc(u.created))):
            continue  # never published: not named
        out.append(Record(u.aid, "unit", stamp, [set_spec(u.fonds.code)], mode is None, u,
                          mode or FULL))  # fmt: skip
        fonds_latest[u.fonds_id] = max(stamp, fonds_latest.get(u.fonds_id, stamp))
    tek = [_utc(tenant.created), _utc(tenant.changed), settings]
    for f in Fonds.objects.filter(tenant=tenant).select_related("tenant"):
        stamp = max(s for s in (_utc(f.created), _utc(f.changed), settings,
                                fonds_latest.get(f.pk)) if s is not None)  # fmt: skip
        out.append(Record(f.code, "fonds", stamp, [set_spec(f.code)], obj=f))
        tek += [_utc(f.created), _utc(f.changed)]
    out.append(Record(TEKTONIK, "tektonik", max(s for s in tek if s is not None), obj=tenant))
    out.sort(key=lambda r: (r.datestamp, r.key))
    return out


# -- the protocol ------------------------------------------------------------------------------

_ARGS = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), set()),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
}
_TOKEN_VERBS = {"ListSets", "ListIdentifiers", "ListRecords"}


@dataclass
class Repository:
    tenant: Tenant
    repository_identifier: str
    base_url: str
    admin_email: str

    def identifier(self, key: str) -> str:
        return f"oai:{self.repository_identifier}:{key}"


def _time(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: str, end: bool) -> tuple[dt.datetime, str]:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            d = dt.date.fromisoformat(value)
            t = dt.time(23, 59, 59) if end else dt.time()
            return dt.datetime.combine(d, t, dt.UTC), "day"
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", value):
            return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC), "s"
    except ValueError:
        pass
    raise OaiError("badArgument", f"not a UTC datestamp (YYYY-MM-DD or "
                                  f"YYYY-MM-DDThh:mm:ssZ): {value!r}")  # fmt: skip


def _token(state: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode()


def _untoken(token: str, verb: str) -> dict:
    try:
        state = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise OaiError("badResumptionToken", "the resumption token is not one of ours") from None
    if not isinstance(state, dict) or state.get("verb") != verb:
        raise OaiError("badResumptionToken", "the resumption token belongs to another list")
    return state


def answer(repo: Repository, params: dict[str, list[str]], now: dt.datetime) -> bytes:
    """The OAI-PMH response to one request's arguments (GET query or POST form)."""
    root = etree.Element(f"{{{OAI}}}OAI-PMH", nsmap={None: OAI, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation",
             f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd")  # fmt: skip
    etree.SubElement(root, f"{{{OAI}}}responseDate").text = _time(now)
    request = etree.SubElement(root, f"{{{OAI}}}request")
    request.text = repo.base_url
    verb = params.get("verb", [None])
    try:
        if len(verb) != 1 or verb[0] not in _ARGS:
            raise OaiError("badVerb", "no verb, several, or one OAI-PMH does not have")
        verb = verb[0]
        args = _arguments(verb, params)
        for k, v in args.items():
            request.set(k, v)
        request.set("verb", verb)
        body = etree.SubElement(root, f"{{{OAI}}}{verb}")
        getattr(_Verbs(repo, now), verb)(body, args)
    except OaiError as e:
        if e.code in ("badVerb", "badArgument"):
            request.attrib.clear()  # the request element names only a correct request
        for child in list(root)[2:]:
            root.remove(child)
        err = etree.SubElement(root, f"{{{OAI}}}error", code=e.code)
        err.text = str(e)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _arguments(verb: str, params: dict[str, list[str]]) -> dict[str, str]:
    required, optional = _ARGS[verb]
    given = {k: v for k, v in params.items() if k != "verb"}
    for k, v in given.items():
        if len(v) != 1:
            raise OaiError("badArgument", f"{k} given more than once")
    args = {k: v[0] for k, v in given.items()}
    if "resumptionToken" in args and verb in _TOKEN_VERBS:
        if len(args) != 1:
            raise OaiError("badArgument", "resumptionToken is an exclusive argument")
        return args
    unknown = set(args) - required - optional
    if unknown:
        raise OaiError("badArgument", f"{verb} does not take {', '.join(sorted(unknown))}")
    missing = required - set(args)
    if missing:
        raise OaiError("badArgument", f"{verb} needs {', '.join(sorted(missing))}")
    return args


class _Verbs:
    def __init__(self, repo: Repository, now: dt.datetime):
        self.repo, self.now = repo, now
        self._records: list[Record] | None = None

    def records(self) -> list[Record]:
        if self._records is None:
            self._records = records(self.repo.tenant, self.now)
        return self._records

    def _find(self, identifier: str) -> Record:
        prefix = f"oai:{self.repo.repository_identifier}:"
        if identifier.startswith(prefix):
            key = identifier[len(prefix) :]
            for r in self.records():
                if r.key == key:
                    return r
        raise OaiError("idDoesNotExist", f"no record {identifier}")

    def Identify(self, body, args) -> None:
        t = self.repo.tenant
        for tag, text in (("repositoryName", t.name), ("baseURL", self.repo.base_url),
                          ("protocolVersion", "2.0"), ("adminEmail", self.repo.admin_email),
                          ("earliestDatestamp", _time(self.records()[0].datestamp)),
                          ("deletedRecord", "persistent"),
                          ("granularity", "YYYY-MM-DDThh:mm:ssZ")):  # fmt: skip
            etree.SubElement(body, f"{{{OAI}}}{tag}").text = text

    def ListMetadataFormats(self, body, args) -> None:
        prefixes = list(FORMATS)
        if "identifier" in args:
            r = self._find(args["identifier"])
            prefixes = [p for p in prefixes if _offers(r, p)]
        for p in prefixes:
            fmt = etree.SubElement(body, f"{{{OAI}}}metadataFormat")
            etree.SubElement(fmt, f"{{{OAI}}}metadataPrefix").text = p
            etree.SubElement(fmt, f"{{{OAI}}}schema").text = FORMATS[p][1]
            etree.SubElement(fmt, f"{{{OAI}}}metadataNamespace").text = FORMATS[p][0]

    def ListSets(self, body, args) -> None:
        if "resumptionToken" in args:
            raise OaiError("badResumptionToken", "ListSets answers in one piece")
        fonds = Fonds.objects.filter(tenant=self.repo.tenant).order_by("code")
        for f in fonds:
            s = etree.SubElement(body, f"{{{OAI}}}set")
            etree.SubElement(s, f"{{{OAI}}}setSpec").text = set_spec(f.code)
            etree.SubElement(s, f"{{{OAI}}}setName").text = f"{f.code}: {f.title}"
        if not len(body):
            raise OaiError("noSetHierarchy", "this repository has no fonds yet")

    def GetRecord(self, body, args) -> None:
        prefix = self._prefix(args["metadataPrefix"])
        r = self._find(args["identifier"])
        if not _offers(r, prefix):
            raise OaiError("cannotDisseminateFormat", f"{r.kind} records are not offered as "
                                                      f"{prefix}")  # fmt: skip
        self._record(body, r, prefix)

    def ListIdentifiers(self, body, args) -> None:
        self._list(body, args, "ListIdentifiers", headers_only=True)

    def ListRecords(self, body, args) -> None:
        self._list(body, args, "ListRecords", headers_only=False)

    def _prefix(self, prefix: str) -> str:
        if prefix not in FORMATS:
            raise OaiError("cannotDisseminateFormat", f"no metadata format {prefix!r}")
        return prefix

    def _list(self, body, args, verb: str, headers_only: bool) -> None:
        if "resumptionToken" in args:
            state = _untoken(args["resumptionToken"], verb)
        else:
            self._prefix(args["metadataPrefix"])
            start = _parse_time(args["from"], end=False) if "from" in args else None
            stop = _parse_time(args["until"], end=True) if "until" in args else None
            if start and stop:
                if start[1] != stop[1]:
                    raise OaiError("badArgument", "from and until differ in granularity")
                if start[0] > stop[0]:
                    raise OaiError("badArgument", "from is later than until")
            state = {"verb": verb, "prefix": args["metadataPrefix"], "set": args.get("set"),
                     "from": _time(start[0]) if start else None,
                     "until": _time(stop[0] if stop else self.now), "after": None}  # fmt: skip
            if state["set"] is not None and not any(
                    set_spec(f.code) == state["set"]
                    for f in Fonds.objects.filter(tenant=self.repo.tenant)):  # fmt: skip
                raise OaiError("noRecordsMatch", f"no set {state['set']!r}")
        prefix = self._prefix(state["prefix"])
        start = _parse_time(state["from"], end=False)[0] if state["from"] else None
        stop = _parse_time(state["until"], end=True)[0]
        matching = [r for r in self.records()
                    if (start is None or r.datestamp >= start) and r.datestamp <= stop
                    and (state["set"] is None or state["set"] in r.sets)
                    and (r.deleted or _offers(r, prefix))]  # fmt: skip
        if not matching:
            raise OaiError("noRecordsMatch", "no record matches")
        after = tuple(state["after"]) if state["after"] else None
        rest = [r for r in matching if after is None or (_time(r.datestamp), r.key) > after]
        if not rest:  # what was left of the list changed after its last answer
            raise OaiError("noRecordsMatch", "no record matches any more")
        size = IDENTIFIERS_PAGE if headers_only else PAGE[prefix]
        page, more = rest[:size], rest[size:]
        for r in page:
            if headers_only:
                self._header(body, r)
            else:
                self._record(body, r, prefix)
        if after is not None or more:
            token = etree.SubElement(body, f"{{{OAI}}}resumptionToken",
                                     completeListSize=str(len(matching)),
                                     cursor=str(len(matching) - len(rest)))  # fmt: skip
            if more:
                last = page[-1]
                token.text = _token({**state, "after": [_time(last.datestamp), last.key]})

    def _header(self, parent, r: Record):
        h = etree.SubElement(parent, f"{{{OAI}}}header")
        if r.deleted:
            h.set("status", "deleted")
        etree.SubElement(h, f"{{{OAI}}}identifier").text = self.repo.identifier(r.key)
        etree.SubElement(h, f"{{{OAI}}}datestamp").text = _time(r.datestamp)
        for s in r.sets:
            etree.SubElement(h, f"{{{OAI}}}setSpec").text = s
        return h

    def _record(self, body, r: Record, prefix: str) -> None:
        rec = etree.SubElement(body, f"{{{OAI}}}record")
        self._header(rec, r)
        if r.deleted:
            return
        etree.SubElement(rec, f"{{{OAI}}}metadata").append(self._metadata(r, prefix))

    def _metadata(self, r: Record, prefix: str):
        if prefix == "ead_ddb":
            xml = (ead.findbuch(r.obj, self.now.date())[0] if r.kind == "fonds"
                   else ead.tektonik(r.obj, self.now.date())[0])  # fmt: skip
            return etree.fromstring(xml)
        return _dc(self.repo.tenant, r)


def _offers(r: Record, prefix: str) -> bool:
    if prefix == "ead_ddb":
        t = r.obj if r.kind == "tektonik" else r.obj.tenant
        return r.kind in ("fonds", "tektonik") and not portal_missing(t)
    return prefix == "oai_dc"


def _dc(tenant: Tenant, r: Record):
    from django.utils import translation
    from django.utils.translation import gettext as _

    root = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} {FORMATS['oai_dc'][1]}")

    def add(element: str, values: Iterable[str]) -> None:
        for v in values:
            if v and v.strip():
                etree.SubElement(root, f"{{{DC}}}{element}").text = v

    with translation.override(tenant.language):
        if r.kind == "unit":
            u = r.obj
            if r.mode == REDUCED:
                add("title", [_(_CLOSED_TITLE)])
                add("date", u.dc.get("date", []))
            else:
                for element in ("title", "creator", "subject", "description", "contributor",
                                "date", "type", "language", "coverage"):  # fmt: skip
                    add(element, u.dc.get(element) or ([u.title] if element == "title" else []))
                if tenant.public_url:
                    add("identifier", [f"{tenant.public_url}/aip/{u.aid}/"])
            add("identifier", [u.signature, u.aid])
            add("relation", [f"{u.fonds.code}: {u.fonds.title}"])
        elif r.kind == "fonds":
            f = r.obj
            add("title", [f.title])
            add("identifier", [f.code])
            add("type", ["Findbuch"])
            if tenant.public_url:
                add("identifier", [f"{tenant.public_url}/fonds/{f.code}/"])
        else:
            add("title", [_("%(name)s (classification)") % {"name": tenant.name}])
            add("type", ["Tektonik"])
        add("publisher", [tenant.name])
    return root
