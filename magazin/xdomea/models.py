"""The e-records desk: agencies that deliver by xdomea, their Aussonderung processes, the
messages exchanged and the offered objects with the archive's decisions (database only; the
records themselves, once taken over, are AIPs, and the decisions are in their PREMIS)."""

from __future__ import annotations

from django.db import models

from magazin.catalog.models import Fonds, Tenant


class Agency(models.Model):
    """An administration that hands over records: where its messages arrive and go."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="agencies")
    code = models.CharField(max_length=100)
    name = models.CharField(max_length=300)
    fonds = models.ForeignKey(Fonds, on_delete=models.PROTECT, related_name="agencies")
    inbox = models.TextField()
    outbox = models.TextField()
    two_step = models.BooleanField(default=False)  # a 0503 without a prior offer is allowed
    partial_takeover = models.BooleanField(default=False)  # a fault fails only its root
    authority_id = models.CharField(max_length=200, blank=True)  # Behördenkennung, if checked
    created = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="agency_code")]
        ordering = ["tenant__slug", "code"]

    def __str__(self) -> str:
        return f"{self.tenant.slug}/{self.code}"


class Process(models.Model):
    """One Aussonderung (ProzessID), from offer or delivery to the import confirmation."""

    OFFERED = "offered"  # 0501 received (0504 sent), appraisal in progress
    APPRAISED = "appraised"  # 0502 sent, waiting for the 0505 or the delivery
    CONFIRMED = "appraisal confirmed"  # 0505 received
    AWAITING = "awaiting delivery"  # part of what was appraised A has been taken over
    COMPLETED = "completed"  # everything appraised A is stored
    REJECTED = "rejected"  # a delivery no process expects (or everything refused)
    DISCARDED = "discarded"  # everything appraised V: nothing to deliver

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="processes")
    process_id = models.CharField(max_length=100)
    version = models.CharField(max_length=20)
    state = models.CharField(max_length=30)
    two_step = models.BooleanField(default=False)
    created = models.DateTimeField()
    updated = models.DateTimeField()
    error = models.TextField(blank=True)  # the last fault recorded on the process

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "process_id"], name="process_id_per_agency")
        ]
        ordering = ["-created"]


class ProcessMessage(models.Model):
    """A message received or sent, with where its copy is kept."""

    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="messages")
    code = models.CharField(max_length=4)
    name = models.CharField(max_length=200)  # container file name
    direction = models.CharField(max_length=3)  # in | out
    status = models.CharField(max_length=20)  # accepted | rejected | partial | sent
    time = models.DateTimeField()
    sha256 = models.CharField(max_length=64, blank=True)
    path = models.TextField(blank=True)  # the copy under MAGAZIN_HOME/xdomea/messages
    error = models.TextField(blank=True)
    quarantine = models.CharField(max_length=26, blank=True)

    class Meta:
        ordering = ["time", "id"]


class ProcessObject(models.Model):
    """An offered (or delivered) Schriftgutobjekt with the archive's decision and its fate
    (its AID, once stored, is the catalog's: the unit whose source key is its ID)."""

    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="items")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, related_name="children")
    position = models.IntegerField(default=0)
    idsgo = models.CharField(max_length=100)
    kind = models.CharField(max_length=20)
    title = models.TextField(blank=True)
    reference = models.CharField(max_length=300, blank=True)
    date_begin = models.CharField(max_length=20, blank=True)
    date_end = models.CharField(max_length=20, blank=True)
    proposal = models.CharField(max_length=40, blank=True)  # agency: Aussonderungsart/Vorschlag
    retention = models.CharField(max_length=40, blank=True)
    retention_end = models.CharField(max_length=20, blank=True)
    decision = models.CharField(max_length=1, blank=True)  # A | V | "" (undecided)
    decision_basis = models.CharField(max_length=20, blank=True)  # set|inherited|parent|rest|…
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True)
    delivered = models.CharField(max_length=10, blank=True)  # "" | stored | failed
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["process", "idsgo"], name="object_per_process")
        ]
        ordering = ["position"]

    @classmethod
    def insert(cls, process: Process, objects: list[ProcessObject]) -> None:
        """Insert one level of a process's tree in bulk, each object then knowing its pk (the
        next level refers to it; not every database returns pks from a bulk insert)."""
        cls.objects.bulk_create(objects, batch_size=1000)
        if any(o.pk is None for o in objects):
            pks = dict(
                process.items.filter(idsgo__in=[o.idsgo for o in objects]).values_list(
                    "idsgo", "pk"
                )
            )
            for o in objects:
                o.pk = pks[o.idsgo]
