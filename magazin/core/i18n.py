"""Messages the engine writes, and how a reader gets them in his language.

The engine writes English: into PREMIS, reports, logs and JSON (a stable language for records
and scripts). Every sentence it writes for people is a *template* marked with N_() — which
`magazin makemessages` collects into the catalogue — and filled with str.format:

    problems.add(name, N_("column {column!r} is not in the table").format(column=c), "bad-table")

A reader's page translates such a text wherever it comes from — a fresh result, a quarantine
report, a PREMIS event read back from storage — by matching it against the catalogue's
templates (`Phrasebook`): the template's translation, with the same values put in. A text no
template matches (record data, a tool's own message) is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

_FIELD = re.compile(r"\{(\w+)(![rsa])?(:[^{}]*)?\}")


def N_(template: str) -> str:  # noqa: N802 - the conventional name of a gettext marker
    """Mark a message for the catalogue; returns it unchanged."""
    return template


def _pattern(template: str) -> re.Pattern[str]:
    """The template as a regular expression: its literal text, each {field} a group."""
    out, pos, seen = [], 0, set()
    for m in _FIELD.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        name = m.group(1)
        out.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("".join(out) + r"\Z", re.S)


def fill(template: str, values: dict[str, str], quoted: frozenset[str] = frozenset()) -> str:
    """Put the values (as they appeared in the English text) into a translated template; a
    conversion such as !r is not applied again. Values of `quoted` fields were written with
    !r ('x'): where the translation has the field without !r, the quotes go (the
    translation quotes in its own way: „x“)."""

    def value(m: re.Match) -> str:
        name = m.group(1)
        v = values.get(name)
        if v is None:
            return m.group(0)
        if name in quoted and m.group(2) != "!r" and len(v) >= 2 and v[0] == v[-1] in "'\"":
            return v[1:-1]
        return v

    return _FIELD.sub(value, template)


def _quoted(template: str) -> frozenset[str]:
    return frozenset(m.group(1) for m in _FIELD.finditer(template) if m.group(2) == "!r")


class Phrasebook:
    """The templates of one catalogue with their translations: translates the texts made
    from them."""

    def __init__(self, translations: dict[str, str] | Iterable[tuple[str, str]]):
        self.translations = dict(translations)
        # by the literal text before the first field; templates that begin with a field are
        # tried for every text, those with more literal text first ("{a} of {b}" must not
        # catch what a longer, more specific template was made for)
        self._by_head: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        for t in sorted(self.translations, key=lambda t: -len(_FIELD.sub("", t))):
            if "{" not in t:
                continue  # no fields: found by a dictionary look-up
            m = _FIELD.search(t)
            self._by_head.setdefault(t[: m.start()], []).append((t, _pattern(t)))
        self._heads = sorted(self._by_head, key=len, reverse=True)

    def match(self, text: str) -> tuple[str, dict[str, str]] | None:
        """(template, values) of the template `text` was made from, or None."""
        if text in self.translations:
            return text, {}
        for head in self._heads:
            if not text.startswith(head):
                continue
            for template, pattern in self._by_head[head]:
                m = pattern.match(text)
                if m:
                    return template, m.groupdict()
        return None

    def translate(self, text: str, value: Callable[[str], str] | None = None) -> str:
        """The translation of `text`, its values put in as they were (or passed through
        `value`: pieces that are messages of their own); `text` itself if no template fits."""
        found = self.match(text)
        if found is None:
            return text
        template, values = found
        quoted = _quoted(template)
        if value is not None:
            values = {k: v if k in quoted else value(v) for k, v in values.items()}
        return fill(self.translations[template], values, quoted)
