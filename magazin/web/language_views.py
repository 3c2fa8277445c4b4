"""The language switch on every page: kept in a cookie, and for a logged-in user on his
membership, so that he finds his pages in his language on every browser."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from magazin.access.models import Membership

from .middleware import LANGUAGES


@login_not_required
@require_POST
def set_language(request):
    response = django_set_language(request)  # the cookie, and back to `next`
    language = request.POST.get("language")
    if language in LANGUAGES and request.user.is_authenticated:
        Membership.objects.filter(user=request.user).update(language=language)
    return response
