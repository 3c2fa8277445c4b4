"""Who may see what: each user's tenant and role, login lockout, and the access log (database
only; none of it is part of a record)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from magazin.catalog.models import Tenant, Unit
from magazin.core.ids import new_reader_id


class Membership(models.Model):
    """A user belongs to one tenant, in one role."""

    OPERATOR = "operator"  # storage, replication, audits, tenants; no content
    ADMIN = "admin"  # the users of its tenant
    ARCHIVIST = "archivist"  # ingest, appraisal, description, audits of its tenant
    READER = "reader"  # search and view what is open to him
    ROLES = [OPERATOR, ADMIN, ARCHIVIST, READER]

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="members")
    role = models.CharField(max_length=20, choices=[(r, r) for r in ROLES])
    # the language the user chose for the pages ("" = the tenant's, or the browser's)
    language = models.CharField(max_length=8, blank=True, default="")
    # the user as a reader in AIPs (grants): a pseudonym, never the name
    reader_id = models.CharField(max_length=60, unique=True, default=new_reader_id)

    def __str__(self) -> str:
        return f"{self.user} ({self.tenant.slug}, {self.role})"


class LoginFailures(models.Model):
    """Failed logins per user name; after too many the account is locked for a while."""

    username = models.CharField(max_length=150, unique=True)
    count = models.IntegerField(default=0)
    last = models.DateTimeField()
    locked_until = models.DateTimeField(null=True)


class AccessLog(models.Model):
    """Every view of a unit and every download of a file or DIP: who, what, when."""

    time = models.DateTimeField(db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    username = models.CharField(max_length=150)
    tenant = models.CharField(max_length=63)
    action = models.CharField(max_length=20)  # view | download | dip | search
    aid = models.CharField(max_length=100)
    path = models.TextField(blank=True)
    via = models.CharField(max_length=10)  # web | api
    address = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-time"]


class Release(models.Model):
    """An archivist opened a unit for everyone before its closure period ends."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="releases")
    statement = models.CharField(max_length=26, unique=True, null=True)  # in the AIP's PREMIS
    by = models.CharField(max_length=150)
    reason = models.TextField()
    created = models.DateTimeField()
    # a release withdrawn (revoked) is kept, with who and why
    withdrawn = models.DateTimeField(null=True)
    withdrawn_by = models.CharField(max_length=150, blank=True, default="")
    withdraw_reason = models.TextField(blank=True, default="")


class Grant(models.Model):
    """A shortening of the closure period for one named reader (Schutzfristverkürzung)."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="grants")
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants"
    )
    statement = models.CharField(max_length=26, unique=True, null=True)  # in the AIP's PREMIS
    by = models.CharField(max_length=150)
    reason = models.TextField()
    purpose = models.TextField()
    expires = models.DateField()
    created = models.DateTimeField()
    # a grant revoked before it expired is kept, with who and why
    revoked = models.DateTimeField(null=True)
    revoked_by = models.CharField(max_length=150, blank=True, default="")
    revoke_reason = models.TextField(blank=True, default="")


class SearchDoc(models.Model):
    """A unit's searchable text, folded (lower case, umlauts and ß folded): its metadata at
    once, the text of its files once the background step has extracted it."""

    unit = models.OneToOneField(Unit, on_delete=models.CASCADE, primary_key=True, related_name="+")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    metadata = models.TextField(blank=True)
    content = models.TextField(blank=True)
    extracted = models.BooleanField(default=False, db_index=True)
    # the beginning of the extracted text as written (not folded): the search's snippets
    text = models.TextField(blank=True, default="")


class ApiToken(models.Model):
    """A named API token of a user. Only its SHA-256 is kept: the token itself is shown once,
    when it is made. Revoked tokens are kept (who may have used what, until when)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")  # fmt: skip
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True)  # sha256 of the token, hex
    created = models.DateTimeField()
    last_used = models.DateTimeField(null=True)
    revoked = models.DateTimeField(null=True)

    class Meta:
        ordering = ["user__username", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                condition=models.Q(revoked__isnull=True),
                name="token_name_in_use",
            )
        ]
