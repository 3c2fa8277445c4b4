"""Closure periods under archive law (Schutzfristen), as data and pure functions.

A unit's closure parameters (end of its date range, secrecy, personal data with the birth and
death dates of the person concerned, intended for publication, an explicit "Schutzfrist bis")
and the tenant's rule profile give the day the unit opens. Periods count in whole calendar
years after the year of the reference date: a file closed in 2010 with 30 years opens on
1 January 2041. A unit intended for publication is open regardless; otherwise the longest
applicable period wins; a unit whose periods cannot be computed (no date range; personal data
without any date the profile can count from) stays closed until an archivist decides.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from magazin.core.i18n import N_


@dataclass(frozen=True)
class Profile:
    slug: str
    name: str
    general: int  # years after the end of the date range
    personal_after_death: int
    personal_after_birth: int
    personal_after_end: int | None  # neither birth nor death known; None: not computable
    secret: int  # years after the end of the date range


PROFILES = {
    "federal": Profile("federal", "Bundesarchivgesetz (BArchG)", 30, 10, 100, 60, 60),
    "lsa": Profile("lsa", "Archivgesetz Sachsen-Anhalt (ArchG LSA)", 30, 30, 110, None, 60),
}


@dataclass
class ClosureParams:
    end: dt.date | None = None  # end of the date range
    secret: bool = False
    personal: bool = False
    birth: dt.date | None = None
    death: dt.date | None = None
    published: bool = False
    until: dt.date | None = None  # an explicit "Schutzfrist bis"


@dataclass
class Closure:
    open_from: dt.date | None  # None: closed until an archivist decides
    reasons: list[str] = field(default_factory=list)

    def is_open(self, day: dt.date) -> bool:
        return self.open_from is not None and self.open_from <= day


def _after(year: int, years: int) -> dt.date:
    return dt.date(year + years + 1, 1, 1)


def closure(p: ClosureParams, profile: Profile) -> Closure:
    if p.published:
        return Closure(dt.date.min, [N_("intended for publication: open")])
    if p.end is None:
        return Closure(None, [N_("no date range: closed until an archivist decides")])
    end = p.end.year
    candidates = [
        (_after(end, profile.general),
         N_("{n} years after {year}").format(n=profile.general, year=end))
    ]  # fmt: skip
    if p.secret:
        candidates.append(
            (_after(end, profile.secret),
             N_("secret: {n} years after {year}").format(n=profile.secret, year=end))
        )  # fmt: skip
    if p.personal:
        if p.death:
            n = profile.personal_after_death
            why = N_("personal data: {n} years after death").format(n=n)
            candidates.append((_after(p.death.year, n), why))
        elif p.birth:
            n = profile.personal_after_birth
            why = N_("personal data: {n} years after birth").format(n=n)
            candidates.append((_after(p.birth.year, n), why))
        elif profile.personal_after_end is not None:
            n = profile.personal_after_end
            why = N_("personal data, no life dates: {n} years after {year}").format(n=n, year=end)
            candidates.append((_after(end, n), why))
        else:
            return Closure(
                None, [N_("personal data without birth or death date: closed until decided")]
            )
    if p.until:
        why = N_("Schutzfrist bis {day}").format(day=p.until)
        candidates.append((p.until + dt.timedelta(days=1), why))
    day, why = max(candidates)
    return Closure(day, [why])


# -- reading the parameters from a unit's metadata -----------------------------------------

_KEYS = {
    "until": ("schutzfrist bis", "schutzfrist", "closed until", "closure until"),
    "personal": ("personenbezug", "personal data", "personenbezogen"),
    "birth": ("geburtsdatum", "date of birth", "birth date", "born"),
    "death": ("sterbedatum", "date of death", "death date", "died"),
    "secret": ("verschlusssache", "vs", "secret", "classified"),
    "published": ("zur veröffentlichung bestimmt", "veröffentlichung", "published",
                  "intended for publication"),
}  # fmt: skip
_TRUE = {"ja", "j", "yes", "y", "true", "1", "x", "wahr"}
SECRET_CODES = {"001", "002", "004", "005"}  # xdomea Vertraulichkeitsstufe VS-NfD and above


def parse_date(value: str, end: bool = False) -> dt.date | None:
    """A date as archivists write it: 31.12.2010, 2010-12-31, 2010-12, 2010 (a year or month
    stands for its last day where `end`, its first otherwise)."""
    v = value.strip()
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", v)
    try:
        if m:
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
        m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", v)
        if not m:
            return None
        y = int(m[1])
        if m[3]:
            return dt.date(y, int(m[2]), int(m[3]))
        if m[2]:
            month = int(m[2])
            if not end:
                return dt.date(y, month, 1)
            nxt = dt.date(y + (month == 12), month % 12 + 1, 1)
            return nxt - dt.timedelta(days=1)
        return dt.date(y, 12, 31) if end else dt.date(y, 1, 1)
    except ValueError:
        return None


def _range_end(value: str) -> dt.date | None:
    """The end of a date range written as 2009/2010, 2009-01-01/2010-12-31, 2009–2010 or a
    single date."""
    parts = re.split(r"\s*(?:/|–|—|\s-\s|\sbis\s)\s*", value.strip())
    return parse_date(parts[-1], end=True) if parts and parts[-1] else None


def _range_start(value: str) -> dt.date | None:
    parts = re.split(r"\s*(?:/|–|—|\s-\s|\sbis\s)\s*", value.strip())
    return parse_date(parts[0]) if parts and parts[0] else None


def date_range(
    dc: dict[str, list[str]], extra: dict[str, str]
) -> tuple[dt.date | None, dt.date | None]:
    """The first and the last day of a unit's date range (either None where unknown)."""
    starts = [d for d in (_range_start(v) for v in dc.get("date", [])) if d]
    ends = [d for d in (_range_end(v) for v in dc.get("date", [])) if d]
    if extra.get("date_start") and (d := parse_date(str(extra["date_start"]))):
        starts.append(d)
    if extra.get("date_end") and (d := parse_date(str(extra["date_end"]), end=True)):
        ends.append(d)
    return (min(starts) if starts else None), (max(ends) if ends else None)


def range_start(dc: dict[str, list[str]], extra: dict[str, str]) -> dt.date | None:
    """The first day of a unit's date range."""
    return date_range(dc, extra)[0]


def year_range(dc: dict[str, list[str]], extra: dict[str, str]) -> tuple[int | None, int | None]:
    """The first and last year of a unit's date range (for the search's date facet)."""
    start, end = date_range(dc, extra)
    first = start.year if start else None
    last = end.year if end else first
    return (first if first is not None else last), last


def protected_until(p: ClosureParams, profile: Profile) -> dt.date | None:
    """The first day on which no closure period for persons or for secrecy (Verschlusssache)
    protects the description any more - those protect the description itself, not only the
    records (the general period after the date range does not: a unit under it may be
    described in public). dt.date.min: none applies; None: one applies that cannot be
    computed (it runs until an archivist decides)."""
    if p.published:
        return dt.date.min
    end = p.end.year if p.end else None
    ends = [dt.date.min]
    if p.secret:
        if end is None:
            return None
        ends.append(_after(end, profile.secret))
    if p.personal:
        if p.death:
            ends.append(_after(p.death.year, profile.personal_after_death))
        elif p.birth:
            ends.append(_after(p.birth.year, profile.personal_after_birth))
        elif profile.personal_after_end is not None and end is not None:
            ends.append(_after(end, profile.personal_after_end))
        else:
            return None
    return max(ends)


def protects_persons_or_secrets(p: ClosureParams, profile: Profile, day: dt.date) -> bool:
    """Whether on `day` a closure period for persons or for secrecy still protects the
    unit's description (`protected_until`)."""
    until = protected_until(p, profile)
    return until is None or until > day


def params_from(dc: dict[str, list[str]], extra: dict[str, str]) -> ClosureParams:
    """The closure parameters of a unit from its Dublin Core and extra fields (table
    columns, xdomea metadata, or values an archivist edited)."""
    folded = {k.strip().casefold(): v for k, v in extra.items() if isinstance(v, str)}

    def get(what: str) -> str:
        for key in _KEYS[what]:
            if folded.get(key, "").strip():
                return folded[key].strip()
        return ""

    p = ClosureParams()
    if extra.get("date_end"):
        p.end = parse_date(extra["date_end"], end=True)
    if p.end is None:
        ends = [e for e in (_range_end(d) for d in dc.get("date", [])) if e]
        p.end = max(ends) if ends else None
    p.secret = get("secret").casefold() in _TRUE or extra.get("confidentiality") in SECRET_CODES
    p.personal = get("personal").casefold() in _TRUE
    p.birth = parse_date(get("birth")) if get("birth") else None
    p.death = parse_date(get("death")) if get("death") else None
    p.published = get("published").casefold() in _TRUE
    p.until = parse_date(get("until"), end=True) if get("until") else None
    if p.birth or p.death:
        p.personal = True
    return p


def apply(units) -> None:
    """Set what follows from each unit's description: its closure period (with its tenant's
    profile), the years of its date range and the key its lists sort by date."""
    for u in units:
        c = closure(params_from(u.dc, u.extra), PROFILES[u.tenant.closure_profile])
        u.open_from, u.closure_reason = c.open_from, "; ".join(c.reasons)
        u.year_from, u.year_to = year_range(u.dc, u.extra)
        start = range_start(u.dc, u.extra)
        u.date_key = start.isoformat() if start else ""
