"""What the page frame needs to know about the user: which menu entries to show."""

from __future__ import annotations

from magazin.access.models import Membership
from magazin.access.scope import Scope


def nav(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = Scope.of(user)
    return {
        "nav": {
            "can_edit": scope.can_edit,
            "admin": scope.role == Membership.ADMIN,
            "operator": scope.role == Membership.OPERATOR,
        }
    }
