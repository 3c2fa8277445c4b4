"""S3 locations: the same OCFL 1.1 storage root as on disk (layout 0003), kept as objects in a
bucket of any S3-compatible store (Ceph's RADOS Gateway, appliances, providers).

There is no rename on S3, so a new object or version becomes visible by what is written
last: its content first (under keys only that version uses), each upload checked against
the MD5 the server computed of the bytes it received, then the version's inventory
(a conditional write, `If-None-Match: *`, where the store honours it: two writers can never
both make version N), then the root inventory. Uploads of a killed writer stay invisible (no
inventory names them); the next writer of the object aborts its unfinished multipart uploads
and removes leftover keys. With `object_lock_days`, every object version written carries a
COMPLIANCE retention: the store refuses to delete it before its date.

Credentials come from the environment only (see LocationConfig); they never appear in
messages.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ..config import LocationConfig
from ..hashing import CHUNK
from . import layout
from .fixity import CopyProblem, check_files
from .location import Location, LocationUnavailable, ObjectMissing, object_files
from .ocfl import (
    OBJECT_DECL,
    ROOT_DECL,
    FolderObject,
    OcflError,
    OcflObject,
    inventory_bytes,
    parse_inventory,
    root_files,
)

PART_SIZE = 64 * 1024 * 1024  # multipart uploads above this; one part in memory at a time
MAX_PARTS = 10_000


class VersionExists(OcflError):
    """Another writer made this version first (the conditional write was refused)."""


def _md5_b64(data: bytes) -> tuple[str, str]:
    d = hashlib.md5(data, usedforsecurity=False)
    return d.hexdigest(), base64.b64encode(d.digest()).decode()


class _Body:
    """A stream over an S3 object's bytes (closes the HTTP response with it)."""

    def __init__(self, body, where: str, location: S3Location):
        self._body, self._where, self._loc = body, where, location

    def read(self, n: int = -1) -> bytes:
        try:
            return self._body.read(None if n is None or n < 0 else n)
        except Exception as e:  # botocore's ResponseStreamingError, urllib3's ProtocolError
            raise self._loc._unavailable(e, f"reading {self._where}") from e

    def close(self) -> None:
        self._body.close()

    def __enter__(self) -> _Body:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class S3Object(OcflObject):
    """An object below a key prefix of an S3 location."""

    def __init__(self, location: S3Location, prefix: str, inventory: dict):
        self.location = location
        self.prefix = prefix  # "<root>/<object path>/"
        self.inventory = inventory
        self.where = location.url(prefix)
        self._sizes: dict[str, int] | None = None

    def open_content(self, content_path: str) -> BinaryIO:
        return self.location.get(self.prefix + content_path)

    @property
    def sizes(self) -> dict[str, int]:
        """Size of every file of the object, from one listing."""
        if self._sizes is None:
            self._sizes = self.location._present(self.prefix)
        return self._sizes

    def open_range(self, content_path: str, start: int, end: int) -> BinaryIO:
        """Bytes start..end (inclusive) of one content file."""
        return self.location.get(self.prefix + content_path, f"bytes={start}-{end}")


class S3Location(Location):
    """A tenant's storage root is `<prefix>/<tenant>/` in the bucket."""

    kind = "s3"

    def __init__(self, config: LocationConfig, staging: Path):
        self.name = config.name
        self.config = config
        self.endpoint = config.endpoint
        self.bucket = config.bucket
        self.prefix = f"{config.prefix}/" if config.prefix else ""
        self.lock_days = config.object_lock_days
        self._staging = staging
        self._client = None
        self._conditional: bool | None = None
        self._mutex = threading.Lock()

    def describe(self) -> str:
        return f"{self.endpoint}/{self.bucket}/{self.prefix}"

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key} ({self.name})"

    # -- the client -----------------------------------------------------------------------

    @property
    def client(self):
        with self._mutex:
            if self._client is None:
                import boto3  # noqa: PLC0415 - boto3 takes 0.3 s to import; only S3 needs it
                from botocore.config import Config  # noqa: PLC0415

                access = os.environ.get(self.config.access_key_env)
                secret = os.environ.get(self.config.secret_key_env)
                if not access or not secret:
                    raise LocationUnavailable(
                        f"storage location {self.name!r}: no credentials: set the environment "
                        f"variables {self.config.access_key_env} and "
                        f"{self.config.secret_key_env}"
                    )
                self._client = boto3.client(
                    "s3",
                    endpoint_url=self.endpoint,
                    region_name=self.config.region or "us-east-1",
                    aws_access_key_id=access,
                    aws_secret_access_key=secret,
                    config=Config(
                        s3={"addressing_style": "path"},
                        # attempts with growing pauses between (connection errors, 5xx, 429)
                        retries={"max_attempts": self.config.retries, "mode": "standard"},
                        connect_timeout=min(5, self.config.timeout),
                        read_timeout=self.config.timeout,
                        max_pool_connections=16,
                        request_checksum_calculation="when_required",
                        response_checksum_validation="when_required",
                    ),
                )
            return self._client

    def _unavailable(self, e: Exception, doing: str) -> LocationUnavailable:
        return LocationUnavailable(
            f"storage location {self.name!r} ({self.endpoint}, bucket {self.bucket}): "
            f"{doing}: {type(e).__name__}: {e}"
        )

    def _call(self, doing: str, fn, **kw):
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            return getattr(self.client, fn)(Bucket=self.bucket, **kw)
        except ClientError as e:
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            code = e.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NotFound", "NoSuchUpload"):
                raise FileNotFoundError(kw.get("Key", "")) from e
            if code in ("PreconditionFailed", "412") or status == 412:
                where = self.url(kw.get("Key", ""))
                raise VersionExists(f"{where}: written by another writer") from e
            raise self._unavailable(e, doing) from e
        except BotoCoreError as e:
            raise self._unavailable(e, doing) from e

    def _lock(self) -> dict:
        if not self.lock_days:
            return {}
        until = dt.datetime.now(dt.UTC) + dt.timedelta(days=self.lock_days)
        return {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": until}

    def _lock_md5(self, data: bytes) -> dict:
        """Retention for a small write, with the Content-MD5 the store asks for with it."""
        return {**self._lock(), "ContentMD5": _md5_b64(data)[1]} if self.lock_days else {}

    # -- keys -----------------------------------------------------------------------------

    def root(self, tenant: str) -> str:
        return f"{self.prefix}{tenant}/"

    def object_prefix(self, tenant: str, object_id: str) -> str:
        return f"{self.root(tenant)}{layout.object_path(object_id)}/"

    def keys(self, prefix: str, delimiter: str | None = None) -> Iterator[dict]:
        token = None
        while True:
            kw = {"Prefix": prefix, "MaxKeys": 1000}
            if delimiter:
                kw["Delimiter"] = delimiter
            if token:
                kw["ContinuationToken"] = token
            page = self._call(f"listing {prefix}", "list_objects_v2", **kw)
            if delimiter:
                for p in page.get("CommonPrefixes", []):
                    yield {"Prefix": p["Prefix"]}
            yield from page.get("Contents", [])
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]

    def get(self, key: str, byte_range: str | None = None) -> _Body:
        kw = {"Key": key}
        if byte_range:
            kw["Range"] = byte_range
        r = self._call(f"reading {key}", "get_object", **kw)
        return _Body(r["Body"], self.url(key), self)

    def get_bytes(self, key: str) -> bytes:
        with self.get(key) as b:
            return b.read()

    def put_bytes(self, key: str, data: bytes, **cond) -> str:
        """Write a small object; the server checks the MD5 of what it received. Returns its
        ETag (unquoted)."""
        md5_hex, md5_b64 = _md5_b64(data)
        r = self._call(
            f"writing {key}",
            "put_object",
            Key=key,
            Body=data,
            ContentMD5=md5_b64,
            ContentLength=len(data),
            **cond,
            **self._lock(),
        )
        etag = r.get("ETag", "").strip('"')
        if etag and etag != md5_hex:
            raise OcflError(f"{self.url(key)}: the store holds other bytes than were sent")
        return etag

    def put_file(
        self, key: str, f: BinaryIO, size: int, expect: tuple[str, str] | None = None, **cond
    ) -> None:
        """Write a file of any size, streamed: one part in memory at a time, each part's MD5
        checked by the server, and the whole compared with the ETag it computed. `expect`
        (algorithm, digest): the bytes read are checked against the inventory's digest in the
        same pass, before the upload completes."""
        h = hashlib.new(expect[0]) if expect else None

        def check(data: bytes, last: bool) -> None:
            if h is not None:
                h.update(data)
                if last and h.hexdigest() != expect[1].lower():
                    raise OcflError(f"{key}: the source's bytes do not match the inventory")

        if size <= PART_SIZE:
            data = f.read()
            if len(data) != size:
                raise OcflError(f"{key}: size changed while uploading")
            check(data, True)
            self.put_bytes(key, data, **cond)
            return
        part_size = max(PART_SIZE, -(-size // MAX_PARTS))
        up = self._call(f"writing {key}", "create_multipart_upload", Key=key, **self._lock())[
            "UploadId"
        ]
        parts, digests, sent = [], [], 0
        try:
            n = 1
            while sent < size:
                data = f.read(min(part_size, size - sent))
                if not data:
                    raise OcflError(f"{key}: file ended at {sent} of {size} bytes")
                check(data, sent + len(data) >= size)
                md5_hex, md5_b64 = _md5_b64(data)
                r = self._call(
                    f"writing {key} (part {n})",
                    "upload_part",
                    Key=key,
                    UploadId=up,
                    PartNumber=n,
                    Body=data,
                    ContentMD5=md5_b64,
                    ContentLength=len(data),
                )
                if r["ETag"].strip('"') != md5_hex:
                    raise OcflError(f"{self.url(key)}: part {n} stored with other bytes")
                parts.append({"ETag": r["ETag"], "PartNumber": n})
                digests.append(bytes.fromhex(md5_hex))
                sent += len(data)
                n += 1
            r = self._call(
                f"writing {key}",
                "complete_multipart_upload",
                Key=key,
                UploadId=up,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            try:
                self._call(f"aborting {key}", "abort_multipart_upload", Key=key, UploadId=up)
            except Exception:  # noqa: BLE001 - the next writer aborts what is left
                pass
            raise
        whole = hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()
        expected = f"{whole}-{len(parts)}"
        etag = r.get("ETag", "").strip('"')
        if not etag:  # RGW 16 answers CompleteMultipartUpload without one
            etag = self._call(f"reading {key}", "head_object", Key=key)["ETag"].strip('"')
        if etag != expected:
            raise OcflError(f"{self.url(key)}: the store assembled other bytes than were sent")

    def delete(self, key: str) -> None:
        """Remove a key from view (on a versioned bucket: a delete marker; retained object
        versions stay)."""
        self._call(f"deleting {key}", "delete_object", Key=key)

    def _abort_uploads(self, prefix: str) -> None:
        """Multipart uploads a killed writer left under this prefix."""
        r = self._call(f"listing uploads {prefix}", "list_multipart_uploads", Prefix=prefix)
        for u in r.get("Uploads", []):
            try:
                self._call(
                    "aborting", "abort_multipart_upload", Key=u["Key"], UploadId=u["UploadId"]
                )
            except FileNotFoundError:
                pass

    # -- reading --------------------------------------------------------------------------

    def tenants(self) -> list[str]:
        return sorted(
            p["Prefix"][len(self.prefix) :].rstrip("/")
            for p in self.keys(self.prefix, "/")
            if "Prefix" in p
        )

    def object_paths(self, tenant: str) -> Iterator[str]:
        root = self.root(tenant)
        for k in self.keys(root):
            key = k["Key"]
            if key.endswith("/" + OBJECT_DECL):
                yield key[len(root) : -len(OBJECT_DECL) - 1]

    def _inventory(self, prefix: str) -> dict:
        for attempt in range(5):
            try:
                data = self.get_bytes(prefix + "inventory.json")
                sidecar = self.get_bytes(prefix + "inventory.json.sha512")
            except FileNotFoundError as e:
                raise ObjectMissing(f"{self.url(prefix)}: no object") from e
            try:
                return parse_inventory(data, sidecar, self.url(prefix))
            except OcflError:
                if attempt == 4:
                    raise
                time.sleep(0.1 * (attempt + 1))  # a writer replacing the two between reads
        raise AssertionError

    def open_path(self, tenant: str, rel: str) -> S3Object:
        prefix = f"{self.root(tenant)}{rel}/"
        return S3Object(self, prefix, self._inventory(prefix))

    def has_object(self, tenant: str, object_id: str) -> bool:
        try:
            key = self.object_prefix(tenant, object_id) + "inventory.json"
            self._call("reading", "head_object", Key=key)
        except FileNotFoundError:
            return False
        return True

    def validate(self, tenant: str, rel: str) -> list[str]:
        prefix = f"{self.root(tenant)}{rel}/"
        try:
            obj = S3Object(self, prefix, self._inventory(prefix))
        except OcflError as e:
            return [str(e)]
        present = self._present(prefix)
        return [f"{self.url(prefix + p)}: missing" for p in object_files(obj) if p not in present]

    def _present(self, prefix: str) -> dict[str, int]:
        return {k["Key"][len(prefix) :]: k["Size"] for k in self.keys(prefix)}

    def check(self, tenant: str, object_id: str, progress=None) -> list[CopyProblem]:
        prefix = self.object_prefix(tenant, object_id)
        try:
            obj = self.open_path(tenant, prefix[len(self.root(tenant)) : -1])
        except ObjectMissing:
            present = self._present(prefix)
            return (
                [CopyProblem(".", "missing")]
                if not present
                else [CopyProblem("inventory.json", "inventory: missing")]
            )
        except OcflError as e:
            return [CopyProblem("inventory.json", f"inventory: {e}")]
        return check_files(obj, set(self._present(prefix)), progress=progress)

    def pending_version(self, tenant: str, object_id: str) -> dict | None:
        prefix = self.object_prefix(tenant, object_id)
        try:
            inv = self._inventory(prefix)
        except OcflError:
            return None
        nxt = f"v{int(inv['head'][1:]) + 1}/"
        try:
            new = self._inventory(prefix + nxt)
        except OcflError:
            return None
        return new if new.get("head") == nxt[:-1] else None

    def usage(self) -> dict:
        objects = nbytes = 0
        for k in self.keys(self.prefix):
            nbytes += k["Size"]
            if k["Key"].endswith("/" + OBJECT_DECL):
                objects += 1
        return {"objects": objects, "bytes": nbytes, "free": None}

    def reachable(self) -> bool:
        try:
            self._call("checking the bucket", "head_bucket")
            return True
        except (OcflError, FileNotFoundError):
            return False

    def probe(self) -> dict:
        out = {"reachable": False, "writable": False, "conditional_writes": False,
               "object_lock": False}  # fmt: skip
        try:
            self.ensure_bucket()  # what the first write would do
            out["reachable"] = True
        except (OcflError, FileNotFoundError):
            return out
        try:
            r = self.client.get_object_lock_configuration(Bucket=self.bucket)
            out["object_lock"] = (
                r.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"
            )
        except Exception:  # noqa: BLE001 - no configuration: no lock
            pass
        try:
            self._conditional = None  # asked for again: the store may have changed
            out["conditional_writes"] = self.conditional_writes()  # writes a probe key
            out["writable"] = True
        except (OcflError, FileNotFoundError):
            pass
        return out

    def _refuses_second(self, key: str) -> bool:
        """Does the store refuse `If-None-Match: *` on an existing key? (RGW 16.2 ignores it
        on versioned buckets, which object lock needs.)"""
        try:
            self._call("probing", "put_object", Key=key, Body=b"again", IfNoneMatch="*",
                       **self._lock_md5(b"again"))  # fmt: skip
        except VersionExists:
            return True
        return False

    def conditional_writes(self) -> bool:
        """Does the store honour `If-None-Match: *`? Probed once by writing a key twice."""
        if self._conditional is None:
            key = f"{self.prefix}.magazin-probe/{uuid.uuid4()}"
            self._call("probing", "put_object", Key=key, Body=b"probe", **self._lock_md5(b"probe"))
            self._conditional = self._refuses_second(key)
            self.delete(key)
        return self._conditional

    # -- writing --------------------------------------------------------------------------

    def staging_area(self) -> Path:
        self._staging.mkdir(parents=True, exist_ok=True)
        return self._staging

    def ensure_bucket(self) -> None:
        """The configured bucket, created where missing (with object lock where asked)."""
        try:
            self._call("checking the bucket", "head_bucket")
            return
        except FileNotFoundError:
            pass
        kw = {"ObjectLockEnabledForBucket": True} if self.lock_days else {}
        self._call("creating the bucket", "create_bucket", **kw)

    def ensure_root(self, tenant: str) -> None:
        self.ensure_bucket()
        root = self.root(tenant)
        try:
            self._call("reading", "head_object", Key=root + ROOT_DECL)
            return
        except FileNotFoundError:
            pass
        for rel, data in root_files():
            self.put_bytes(root + rel, data)

    def _upload(self, src: OcflObject, rel: str, key: str, digests: dict[str, str], **cond) -> None:
        """One file of an object; content files are checked against their digests."""
        digest = digests.get(rel)
        expect = (src.digest_algorithm, digest) if digest else None
        local = src.local_file(rel)
        if local is not None:
            with open(local, "rb") as f:
                self.put_file(key, f, os.fstat(f.fileno()).st_size, expect, **cond)
            return
        # from another store: through a local file, so the size is known and memory flat
        tmp = self.staging_area() / f"upload-{uuid.uuid4()}"
        try:
            with src.open_content(rel) as f, open(tmp, "wb") as out:
                while chunk := f.read(CHUNK):
                    out.write(chunk)
            with open(tmp, "rb") as f:
                self.put_file(key, f, os.fstat(f.fileno()).st_size, expect, **cond)
        finally:
            tmp.unlink(missing_ok=True)

    def store_object(
        self, tenant: str, src: OcflObject, move: bool = False, sync: bool = True
    ) -> None:
        prefix = self.object_prefix(tenant, src.id)
        self._abort_uploads(prefix)
        files = object_files(src)
        wanted = set(files)
        old = self._present(prefix)
        digests = src.content_files()
        for rel in files:  # the root inventory last: then the object is visible
            self._upload(src, rel, prefix + rel, digests)
        for rel in old:
            if rel not in wanted:
                self.delete(prefix + rel)  # what a damaged or killed copy held besides

    def commit_version(self, tenant: str, object_id: str, vdir: Path, inv: dict) -> None:
        prefix = self.object_prefix(tenant, object_id)
        vname = inv["head"]
        vprefix = f"{prefix}{vname}/"
        self._abort_uploads(vprefix)
        staged = FolderObject(vdir.parent, inv)
        new = [p for p in staged.content_files() if p.startswith(vname + "/")]
        leftovers = set(self._present(vprefix))
        if "inventory.json" in leftovers:
            raise VersionExists(f"{self.url(vprefix)}: the version exists")
        for rel in leftovers:
            self.delete(vprefix + rel)  # what a killed writer of this version left
        # Where the store honours it, every key of the version is created, never replaced:
        # a second writer that slipped past the object lock stops at its first write, in
        # the same order, before it changed anything of the first one's version.
        cond = {"IfNoneMatch": "*"} if self.conditional_writes() else {}
        digests = staged.content_files()
        for rel in sorted(new):
            self._upload(staged, rel, prefix + rel, digests, **cond)
        data, sidecar = inventory_bytes(inv)
        self.put_bytes(vprefix + "inventory.json.sha512", sidecar, **cond)
        self.put_bytes(vprefix + "inventory.json", data, **cond)
        self._replace_root(prefix, data, sidecar)

    def _replace_root(self, prefix: str, data: bytes, sidecar: bytes) -> None:
        self.put_bytes(prefix + "inventory.json", data)
        self.put_bytes(prefix + "inventory.json.sha512", sidecar)

    def finish_version(self, tenant: str, object_id: str) -> bool:
        inv = self.pending_version(tenant, object_id)
        if inv is None:
            return False
        data, sidecar = inventory_bytes(inv)
        self._replace_root(self.object_prefix(tenant, object_id), data, sidecar)
        return True
