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
    resolved_by = models.CharField(max_length=150, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created"]


class IngestJob(models.Model):
    """An ingest (or an xdomea message, a quarantine retry, or access decisions on many
    units) run in the background for the web or API; its progress is written here by the
    worker while it runs."""

    QUEUED, RUNNING, DONE, REJECTED, FAILED = "queued", "running", "done", "rejected", "failed"
    STATES = (QUEUED, RUNNING, DONE, REJECTED, FAILED)
    FINISHED = (DONE, REJECTED, FAILED)
    SIP, XDOMEA, RETRY = "sip", "xdomea", "retry"
    DECISION = "decision"  # access decisions on many units (options: action, aids, …)
    PRESERVE = "preserve"  # a preservation plan's run (options: plan, aids)
    # where the ingest was started: the web page, the API, the command line, an xdomea inbox
    ORIGINS = ("web", "api", "cli", "xdomea")

    jid = models.CharField(max_length=26, unique=True)
    tenant = models.ForeignKey("catalog.Tenant", on_delete=models.PROTECT, related_name="jobs")
    user = models.CharField(max_length=150)
    kind = models.CharField(max_length=10, default=SIP)
    origin = models.CharField(max_length=10, default="web")
    name = models.CharField(max_length=255)  # what the archivist sees: file or folder name
    fonds = models.CharField(max_length=100, blank=True)
    agency = models.CharField(max_length=100, blank=True)
    sip_path = models.TextField()
    table_path = models.TextField(blank=True)
    upload_dir = models.TextField(blank=True)  # ours to remove once the SIP is stored
    options = models.JSONField(default=dict)
    state = models.CharField(max_length=10, default=QUEUED)
    phase = models.CharField(max_length=20, blank=True)
    done = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    progress = models.PositiveSmallIntegerField(default=0)
    result = models.JSONField(default=dict)
    quarantine = models.CharField(max_length=26, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField()
    started = models.DateTimeField(null=True)
    finished = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["tenant", "-created"])]
