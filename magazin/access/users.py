"""Creating users: a user belongs to one tenant in one role; optionally with an API token."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from magazin.catalog.journal import record_account_change
from magazin.catalog.models import Tenant
from magazin.core.i18n import N_

from .models import Membership
from .tokens import create_token


class UserError(ValueError):
    pass


@transaction.atomic
def create_user(
    username: str,
    tenant: Tenant,
    role: str,
    password: str | None,
    token: bool = False,
    by: str = "magazin",
) -> dict:
    User = get_user_model()
    if role not in Membership.ROLES:
        raise UserError(
            N_("role {role!r}: use one of {roles}").format(
                role=role, roles=", ".join(Membership.ROLES)
            )
        )
    if not username or len(username) > 150:
        raise UserError(N_("user name: 1-150 characters"))
    if User.objects.filter(username=username).exists():
        raise UserError(N_("user {username!r} exists already").format(username=username))
    user = User(username=username, is_staff=False, is_superuser=False)
    if password is not None:
        try:
            validate_password(password, user)
        except ValidationError as e:
            raise UserError(
                N_("password: {reasons}").format(reasons=" ".join(e.messages))
            ) from None
        user.set_password(password)
    else:
        user.set_unusable_password()  # token-only (API) users, or a password set later
    user.save()
    Membership.objects.create(user=user, tenant=tenant, role=role)
    record_account_change(tenant, by, "user", username, "created", role=role)
    out = {"username": username, "tenant": tenant.slug, "role": role}
    if token:
        out["token"] = create_token(user, "default")[1]
    return out


TENANT_ROLES = [Membership.ADMIN, Membership.ARCHIVIST, Membership.READER]


def tenant_users(tenant: Tenant):
    """The users of one tenant with their roles (for its admins)."""
    return (
        Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__username")
    )


@transaction.atomic
def change_user(
    tenant: Tenant,
    username: str,
    by: str,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> Membership:
    """A tenant admin changes a user of the same tenant: role, active, password. An admin
    cannot lock himself out (deactivate or demote his own account); operators are made with
    the CLI only."""
    m = Membership.objects.select_related("user").filter(tenant=tenant, user__username=username)
    m = m.first()
    if m is None:
        raise UserError(
            N_("no user {username!r} in {slug}").format(username=username, slug=tenant.slug)
        )
    if m.role == Membership.OPERATOR:
        raise UserError(
            N_("{username}: operators are managed with `magazin user` on the server").format(
                username=username
            )
        )
    if role is not None and role != m.role:
        if role not in TENANT_ROLES:
            raise UserError(
                N_("role {role!r}: use one of {roles}").format(
                    role=role, roles=", ".join(TENANT_ROLES)
                )
            )
        if username == by:
            raise UserError(N_("you cannot change your own role"))
        record_account_change(tenant, by, "role", username, "role changed", role=role,
                              previous=m.role)  # fmt: skip
        m.role = role
        m.save(update_fields=["role"])
    user = m.user
    if active is not None and active != user.is_active:
        if username == by:
            raise UserError(N_("you cannot deactivate your own account"))
        user.is_active = active
        user.save(update_fields=["is_active"])
        record_account_change(tenant, by, "user", username,
                              "activated" if active else "deactivated")  # fmt: skip
    if password:
        try:
            validate_password(password, user)
        except ValidationError as e:
            raise UserError(
                N_("password: {reasons}").format(reasons=" ".join(e.messages))
            ) from None
        user.set_password(password)
        user.save(update_fields=["password"])
        record_account_change(tenant, by, "user", username, "password set")
    return m
