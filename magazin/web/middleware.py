"""Each page in the reader's language and his tenant's time zone.

The language: the one the user chose (kept on his membership, or in the cookie of the switch),
else the one the browser asks for (LocaleMiddleware), else his tenant's. The API answers in
the language of Accept-Language. Times are shown in the tenant's zone (default
Europe/Berlin); JSON keeps ISO 8601."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation.trans_real import parse_accept_lang_header

from magazin.access.models import Membership

LANGUAGES = {code for code, _name in settings.LANGUAGES}


class ReaderLocale:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        m = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            m = Membership.objects.select_related("tenant").filter(user=user).first()
        request.membership = m
        if m is not None:
            try:
                timezone.activate(zoneinfo.ZoneInfo(m.tenant.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.activate(zoneinfo.ZoneInfo(settings.TIME_ZONE))
            chosen = _chosen(request, m)
            if chosen:
                translation.activate(chosen)
                request.LANGUAGE_CODE = chosen
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def _chosen(request, m: Membership) -> str | None:
    """The language a user's page is shown in, where the browser does not decide it."""
    if request.path.startswith("/api/"):
        return None  # Accept-Language
    if m.language in LANGUAGES:
        return m.language
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) in LANGUAGES:
        return None  # chosen before login, on this browser
    accepted = parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
    if any(lang.split("-")[0].lower() in LANGUAGES for lang, _q in accepted):
        return None  # the browser asks for one of ours
    return m.tenant.language if m.tenant.language in LANGUAGES else None
