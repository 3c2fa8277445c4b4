"""Quarantine entries (database only; their reports live under MAGAZIN_HOME/quarantine)."""

from __future__ import annotations

from django.db import models


class QuarantineEntry(models.Model):
    """A rejected SIP: where it was, why it was refused, and what became of it."""

    qid = models.CharField(max_length=26, unique=True)
    created = models.DateTimeField()
    sip_path = models.TextField()
    tenant = models.CharField(max_length=63, blank=True)
    fonds = models.CharField(max_length=100, blank=True)
    request = models.JSONField(default=dict)
    problems = models.JSONField(default=list)
    status = models.CharField(max_length=20, default="open")  # open | retried | discarded
    resolved = models.DateTimeField(null=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created"]
