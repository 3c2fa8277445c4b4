"""Template filters for what a reader sees: labels and messages in his language, times in
his tenant's zone and his language's format, sizes readable with the exact count on hover."""

from __future__ import annotations

import datetime as dt

from django import template
from django.template.defaultfilters import filesizeformat
from django.utils import formats, timezone
from django.utils.html import format_html

from magazin.web import i18n

register = template.Library()


@register.filter
def tr(text):
    """An engine message (problem, event detail, closure reason) in the reader's language."""
    return i18n.tr(text)


@register.filter
def tr_list(text):
    return i18n.tr_list(text)


@register.filter
def label(value, kind: str):
    """`{{ e.type|label:"event" }}`: a vocabulary value's label."""
    return i18n.label(kind, value)


@register.filter
def field(name):
    """A description field's name (Dublin Core elements by their archival label)."""
    return i18n.field_label(str(name))


def _datetime(value) -> dt.datetime | None:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, dt.datetime):
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return timezone.localtime(value)


@register.filter
def when(value):
    """A moment in the tenant's time zone: <time datetime="ISO">1.12.2026, 22:42</time>."""
    t = _datetime(value)
    if t is None:
        return value or "–"
    shown = formats.date_format(t, "SHORT_DATETIME_FORMAT")
    return format_html('<time datetime="{}">{}</time>', t.isoformat(), shown)


@register.filter
def day(value):
    """A calendar day in the language's short format (ISO strings too)."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    if not isinstance(value, dt.date):
        return value or "–"
    return formats.date_format(value, "SHORT_DATE_FORMAT")


@register.filter
def num(value):
    """A count with the language's thousands separator (2.487)."""
    if value is None or value == "":
        return "0"
    return formats.number_format(value, force_grouping=True)


@register.filter
def size(value):
    """A size readable (10,0 MB) with the exact number of bytes on hover."""
    n = int(value or 0)
    return format_html(
        '<span class="size" title="{} {}">{}</span>',
        formats.number_format(n, force_grouping=True),
        "Bytes",
        filesizeformat(n),
    )


@register.filter
def dates(values):
    """A date range as recorded (ISO 8601: 2014-05-01, 2009/2010, 2013-02) in the
    language's format: 1.5.2014 · 2009 – 2010; anything else as written."""
    if isinstance(values, str):
        values = [values]
    out = []
    for v in values or []:
        out.append(" – ".join(_iso_day(part) for part in str(v).split("/")))
    return ", ".join(out)


def _iso_day(text: str) -> str:
    t = text.strip()
    if len(t) == 10:
        try:
            return formats.date_format(dt.date.fromisoformat(t), "SHORT_DATE_FORMAT")
        except ValueError:
            return t
    return t


@register.filter
def basename(path):
    """The last part of a path: the name of a delivered file, not where the server keeps it."""
    return str(path or "").replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


@register.filter
def get(mapping, key):
    """`{{ snippets|get:u.pk }}`: a dictionary's value for a key."""
    return (mapping or {}).get(key)
