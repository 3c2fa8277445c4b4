"""Catalog models: Tenant, Fonds, Accession, Unit (a tree), Representation, File, Event, Copy.

Everything here can be rebuilt from storage (`magazin catalog rebuild`)."""

from __future__ import annotations

from django.db import models


class Tenant(models.Model):
    """An archive institution (the operating archive or a partner archive)."""

    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=300)
    created = models.DateTimeField()
    # the closure-period rules it follows (magazin/access/closure.py PROFILES)
    closure_profile = models.CharField(max_length=20, default="federal")
    # its pages show times in this zone, and in this language to users who chose none
    time_zone = models.CharField(max_length=64, default="Europe/Berlin")
    language = models.CharField(max_length=8, default="de")
    # what an invalid file means at ingest: warn (taken over, flagged) or reject (quarantine)
    invalid_files = models.CharField(max_length=10, default="warn")
    # what the Archivportal-D needs to name it (magazin/interop): its ISIL (ISO 15511), its
    # archive type (Archivsparte), its federal state (Bundesland, which the portal's Tektonik
    # names), the public address its links start with, and whether
    # descriptions under a closure period for persons or secrecy are left out of what it
    # publishes or shown reduced (level, signature, date range)
    isil = models.CharField(max_length=16, blank=True, default="")
    archive_type = models.CharField(max_length=20, blank=True, default="")
    state = models.CharField(max_length=40, blank=True, default="")
    public_url = models.CharField(max_length=300, blank=True, default="")
    closed_descriptions = models.CharField(max_length=10, default="omit")
    # its OAI-PMH interface answers (/oai/<slug>/); off: 404
    oai_enabled = models.BooleanField(default=False)
    # when its record last changed (any setting, a classification group), and when what it
    # publishes last changed for every record at once (a publication setting, OAI switched
    # on): the OAI-PMH datestamps of its Tektonik and of every record follow them
    changed = models.DateTimeField(null=True)
    publication_changed = models.DateTimeField(null=True)
    # when it last stopped showing closed descriptions reduced: those published until then
    # are reported deleted by OAI-PMH
    reduced_ended = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return self.slug


class ClassificationGroup(models.Model):
    """A group of the tenant's classification (Tektonik): a node of a tree addressed by the
    signatures of its groups from the top (A/A2). Kept in the tenant's OCFL object."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="groups")
    path = models.CharField(max_length=300)
    title = models.CharField(max_length=500)
    sort_key = models.CharField(max_length=600, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "path"], name="group_path")]
        ordering = ["tenant", "sort_key"]

    @property
    def signature(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def depth(self) -> int:
        return self.path.count("/")


class FormatRisk(models.Model):
    """A tenant's own entry of the format register (risk, plan, note for a PUID), where it
    differs from Magazin's default. Kept in the tenant's OCFL object."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="format_risks")
    puid = models.CharField(max_length=40)
    risk = models.CharField(max_length=10)
    plan = models.CharField(max_length=60, blank=True, default="")
    note = models.TextField(blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "puid"], name="format_risk")]
        ordering = ["tenant", "puid"]


class Fonds(models.Model):
    """A body of records (Bestand); its code is unique within the tenant."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="fonds")
    code = models.CharField(max_length=100)
    title = models.CharField(max_length=500)
    created = models.DateTimeField()
    # the classification group it stands in ("" = not classified)
    group = models.CharField(max_length=300, blank=True, default="")
    changed = models.DateTimeField(null=True)  # its title or group last changed

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="fonds_code")]
        ordering = ["tenant__slug", "code"]

    def __str__(self) -> str:
        return f"{self.tenant.slug}/{self.code}"


class Accession(models.Model):
    """One delivery (Zugang)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="accessions")
    fonds = models.ForeignKey(Fonds, on_delete=models.PROTECT, related_name="accessions")
    ulid = models.CharField(max_length=26, unique=True)
    number = models.CharField(max_length=40)
    created = models.DateTimeField()
    source = models.CharField(max_length=300, blank=True)
    sip_name = models.CharField(max_length=500)
    files = models.BigIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="accession_number")
        ]
        ordering = ["tenant__slug", "number"]


class AccessionSequence(models.Model):
    """The last accession number given per tenant and year. Two ingests that start at the
    same moment take their numbers one after the other from here (a number given to a run
    that never finished is not given again: a gap, never a duplicate). Operational state:
    after a rebuild it continues from the highest number in the catalog."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    year = models.IntegerField()
    last = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "year"], name="accession_sequence")
        ]


class Unit(models.Model):
    """A unit of description; a root unit (parent null) is stored as one AIP."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="units")
    fonds = models.ForeignKey(Fonds, on_delete=models.PROTECT, related_name="units")
    accession = models.ForeignKey(
        Accession, on_delete=models.PROTECT, null=True, related_name="units"
    )
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, related_name="children")
    aid = models.CharField(max_length=100, unique=True)
    ocfl_id = models.CharField(max_length=200, unique=True, null=True)
    title = models.TextField()
    dc = models.JSONField(default=dict)
    extra = models.JSONField(default=dict)
    source_key = models.CharField(max_length=700, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField()
    files_count = models.IntegerField(default=0)
    bytes = models.BigIntegerField(default=0)
    # the formats of its files (PRONOM ids, space-separated; "unknown": not identified), read
    # with the unit by the search's format facet
    formats = models.TextField(blank=True, default="")
    # closure period (computed from the metadata and the tenant's profile): the day the unit
    # opens to readers; null: closed until an archivist decides
    open_from = models.DateField(null=True)
    closure_reason = models.TextField(blank=True)
    # the years of its date range (from the metadata), for the search's date facet
    year_from = models.SmallIntegerField(null=True)
    year_to = models.SmallIntegerField(null=True)
    # for lists sorted as an archivist expects: the signature with its numbers compared as
    # numbers (OB-R-2 before OB-R-10), the date range by its first day
    signature = models.CharField(max_length=300, blank=True, default="")
    signature_key = models.CharField(max_length=600, blank=True, default="", db_index=True)
    date_key = models.CharField(max_length=10, blank=True, default="", db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "fonds", "source_key"]),
            models.Index(fields=["tenant", "open_from"]),
            models.Index(fields=["tenant", "year_from"]),
        ]
        ordering = ["aid"]


class Representation(models.Model):
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="representations")
    name = models.CharField(max_length=100)
    label = models.CharField(max_length=200, blank=True)  # its name in the package it came from

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="rep_name")]


class File(models.Model):
    representation = models.ForeignKey(
        Representation, on_delete=models.CASCADE, related_name="files"
    )
    path = models.TextField()
    size = models.BigIntegerField()
    sha512 = models.CharField(max_length=128)
    puid = models.CharField(max_length=40, null=True)
    format_name = models.CharField(max_length=300, null=True)
    format_version = models.CharField(max_length=100, null=True)
    mime = models.CharField(max_length=200, null=True)
    basis = models.CharField(max_length=20, default="none")
    # its last validation (PREMIS validation event): success | failure | warning, "" none
    validation = models.CharField(max_length=10, blank=True, default="", db_index=True)
    validation_note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["path"]


class Event(models.Model):
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="events")
    ulid = models.CharField(max_length=200)  # the PREMIS identifier (a package's own: a URN)
    type = models.CharField(max_length=60)
    datetime = models.DateTimeField()
    outcome = models.CharField(max_length=20)
    detail = models.TextField(blank=True)
    outcome_detail = models.TextField(blank=True)
    agents = models.JSONField(default=list)

    class Meta:
        ordering = ["datetime", "id"]


class Copy(models.Model):
    """One copy of an AIP in one storage location, with its last fixity result."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="copies")
    location = models.CharField(max_length=100)
    status = models.CharField(max_length=10, default="ok")  # ok | missing | damaged
    checked = models.DateTimeField(null=True)  # the last fixity check (None: at ingest)
    failed = models.DateTimeField(null=True)  # the last check that found it bad
    repaired = models.DateTimeField(null=True)  # the last repair from an intact copy

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "location"], name="copy_loc")]
        indexes = [models.Index(fields=["location", "checked"], name="copy_due")]
        ordering = ["location"]


class JournalEntry(models.Model):
    """An index of the tenant's archive journal as stored (the journal object in storage is
    the record; this lets the journal page and `journal show` read a day or a unit without
    reading every segment). Filled from new segments as they are read; a rebuild refills it."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField()
    time = models.DateTimeField()
    entry = models.TextField()  # the entry as stored (canonical JSON)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "seq"], name="journal_entry_seq")]
        indexes = [models.Index(fields=["tenant", "time"], name="journal_entry_time")]


class JournalMention(models.Model):
    """An object (OCFL id) or unit (AID) an indexed journal entry names."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField()
    key = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key", "seq"], name="journal_mention")
        ]
