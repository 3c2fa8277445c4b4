"""RFC 3161 time-stamps: asking a time-stamping authority (TSA) over HTTP, and checking a
token - the imprint it covers, its signature, the signing certificate and its chain up to the
certificates the archive trusts (`[evidence] tsa_certificate`).

The checks are Magazin's own (asn1crypto reads the structures, cryptography checks the
signatures), so that every time-stamp of an evidence record's chain is verified, not only
the last one."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import cms, pem, tsp, x509
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

TIMEOUT = 60
MAX_REPLY = 1 << 20  # a time-stamp reply is a few KiB
_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512,
           "sha3_256": hashes.SHA3_256, "sha3_384": hashes.SHA3_384,
           "sha3_512": hashes.SHA3_512, "sha1": hashes.SHA1}  # fmt: skip


class TimestampError(Exception):
    """A time-stamp could not be had, or a token does not hold (the message says why)."""


@dataclass
class Authority:
    """Where time-stamps come from, and whom to believe: the `[evidence]` settings."""

    url: str
    trusted: list[bytes]  # DER certificates: the TSA's own, or the CA(s) above it
    user: str | None = None
    password: str | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    timeout: float = TIMEOUT


def load_certificates(path: Path) -> list[bytes]:
    """DER certificates from a PEM (one or several) or DER file."""
    data = path.read_bytes()
    if pem.detect(data):
        return [der for _type, _hdr, der in pem.unarmor(data, multiple=True)]
    return [data]


@dataclass
class TokenInfo:
    """What a checked token says."""

    time: dt.datetime
    hash_algorithm: str
    imprint: bytes
    serial: int
    tsa: str  # the signing certificate's subject
    policy: str
    signer_not_after: dt.datetime
    signature_algorithm: str
    chain: list[bytes]  # DER: the signing certificate, then its issuers


def request(authority: Authority, digest: bytes, hash_algorithm: str) -> bytes:
    """A time-stamp token (DER ContentInfo) on `digest`, checked before it is returned."""
    nonce = secrets.randbits(63)
    query = tsp.TimeStampReq({
        "version": 1,
        "message_imprint": {"hash_algorithm": {"algorithm": hash_algorithm},
                            "hashed_message": digest},
        "nonce": nonce, "cert_req": True,
    }).dump()  # fmt: skip
    headers = {"Content-Type": "application/timestamp-query"}
    req = urllib.request.Request(authority.url, data=query, method="POST", headers=headers)
    if authority.user:
        token = f"{authority.user}:{authority.password or ''}".encode()
        req.add_header("Authorization", "Basic " + base64.b64encode(token).decode())
    context = None
    if authority.client_cert:
        context = ssl.create_default_context()
        context.load_cert_chain(authority.client_cert, authority.client_key)
    try:
        with urllib.request.urlopen(req, timeout=authority.timeout, context=context) as r:
            kind = r.headers.get("Content-Type", "")
            reply = r.read(MAX_REPLY + 1)
    except urllib.error.HTTPError as e:
        raise TimestampError(f"{authority.url}: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError) as e:
        raise TimestampError(f"{authority.url}: not reached: {e}") from None
    if len(reply) > MAX_REPLY:
        raise TimestampError(f"{authority.url}: the reply is larger than {MAX_REPLY} bytes")
    if "application/timestamp-reply" not in kind:
        raise TimestampError(f"{authority.url}: answered {kind or 'no content type'}, not "
                             "application/timestamp-reply")  # fmt: skip
    try:
        resp = tsp.TimeStampResp.load(reply)
        status = resp["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            text = resp["status"]["status_string"].native or []
            raise TimestampError(f"{authority.url}: refused ({status}): {'; '.join(text)}")
        token = resp["time_stamp_token"].dump()
        info = _tst_info(cms.ContentInfo.load(token))
    except (ValueError, TypeError, KeyError) as e:
        raise TimestampError(f"{authority.url}: the reply is no RFC 3161 response: {e}") from None
    if info["nonce"].native != nonce:
        raise TimestampError(f"{authority.url}: the reply answers another request (nonce)")
    verify(token, digest, authority.trusted)
    return token


def _tst_info(content_info: cms.ContentInfo) -> tsp.TSTInfo:
    if content_info["content_type"].native != "signed_data":
        raise TimestampError("the token is not CMS SignedData")
    encap = content_info["content"]["encap_content_info"]
    if encap["content_type"].native != "tst_info":
        raise TimestampError("the token's content is not a TSTInfo")
    return encap["content"].parsed


def token_time(token: bytes) -> dt.datetime:
    return _tst_info(cms.ContentInfo.load(token))["gen_time"].native


def token_imprint(token: bytes) -> tuple[str, bytes]:
    """(hash algorithm, digest) the token covers."""
    mi = _tst_info(cms.ContentInfo.load(token))["message_imprint"]
    return mi["hash_algorithm"]["algorithm"].native, mi["hashed_message"].native


def _matches(cert: x509.Certificate, sid: cms.SignerIdentifier) -> bool:
    if sid.name == "issuer_and_serial_number":
        return (cert.issuer == sid.chosen["issuer"]
                and cert.serial_number == sid.chosen["serial_number"].native)  # fmt: skip
    return cert.key_identifier == sid.chosen.native


def _check_signature(public_key, signature: bytes, data: bytes, hash_name: str,
                     algorithm: str) -> None:  # fmt: skip
    h = _HASHES[hash_name]()
    if isinstance(public_key, rsa.RSAPublicKey):
        if algorithm == "rsassa_pss":
            public_key.verify(signature, data, padding.PSS(padding.MGF1(h), h.digest_size), h)
        else:
            public_key.verify(signature, data, padding.PKCS1v15(), h)
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, data, ec.ECDSA(h))
    else:
        public_key.verify(signature, data)  # Ed25519 / Ed448


def verify(token: bytes, digest: bytes | None, trusted: list[bytes],
           at: dt.datetime | None = None) -> TokenInfo:  # fmt: skip
    """Check a token: it covers `digest` (when given), its signed attributes hold the digest
    of its TSTInfo and name the signing certificate (ESS), the signature is the signer's,
    the signer may sign time-stamps and was valid at the time-stamp's time, and its chain
    ends in a trusted certificate. Raises TimestampError saying what does not hold."""
    try:
        ci = cms.ContentInfo.load(token)
        info = _tst_info(ci)
        sd = ci["content"]
    except (ValueError, TypeError, KeyError) as e:
        raise TimestampError(f"not a time-stamp token: {e}") from None
    hash_name = info["message_imprint"]["hash_algorithm"]["algorithm"].native
    imprint = info["message_imprint"]["hashed_message"].native
    if digest is not None and imprint != digest:
        raise TimestampError("the time-stamp covers another value than the one checked")
    gen_time = info["gen_time"].native
    signers = list(sd["signer_infos"])
    if len(signers) != 1:
        raise TimestampError("the token has not exactly one signer")
    si = signers[0]
    certs = [c.chosen for c in sd["certificates"]] if sd["certificates"].native else []
    trusted_certs = [x509.Certificate.load(d) for d in trusted]
    signer = next((c for c in certs + trusted_certs if _matches(c, si["sid"])), None)
    if signer is None:
        raise TimestampError("the signing certificate is neither in the token nor trusted")
    # the signed attributes: content type, the TSTInfo's digest, the signing certificate
    attrs = {a["type"].native: a["values"][0] for a in si["signed_attrs"]}
    sig_hash = si["digest_algorithm"]["algorithm"].native
    econtent = sd["encap_content_info"]["content"].contents
    if attrs.get("content_type") is None or attrs["content_type"].native != "tst_info":
        raise TimestampError("the signed attributes do not name a TSTInfo")
    if (
        attrs.get("message_digest") is None
        or attrs["message_digest"].native != hashlib.new(sig_hash, econtent).digest()
    ):
        raise TimestampError("the TSTInfo was changed after it was signed")
    signer_der = signer.dump()
    ess = attrs.get("signing_certificate_v2") or attrs.get("signing_certificate")
    if ess is None:
        raise TimestampError("the signed attributes do not name the signing certificate (ESS)")
    first = ess["certs"][0]
    ess_hash = first["hash_algorithm"]["algorithm"].native if "hash_algorithm" in first else "sha1"
    if first["cert_hash"].native != hashlib.new(ess_hash, signer_der).digest():
        raise TimestampError("the signing certificate is not the one the token names")
    # signed as they were encoded, with the SET OF tag instead of [0] (RFC 5652, 5.4)
    signed = b"\x31" + si["signed_attrs"].dump()[1:]
    sig_alg = si["signature_algorithm"]["algorithm"].native
    key = cx509.load_der_x509_certificate(signer_der).public_key()
    try:
        _check_signature(key, si["signature"].native, signed, sig_hash,
                         "rsassa_pss" if sig_alg == "rsassa_pss" else sig_alg)  # fmt: skip
    except (InvalidSignature, ValueError, TypeError) as e:
        raise TimestampError(
            f"the token's signature does not verify: {str(e) or 'invalid signature'}"
        ) from None
    # the signer: for time-stamping only, valid then, chained to a trusted certificate
    eku = signer.extended_key_usage_value
    if eku is None or "time_stamping" not in eku.native:
        raise TimestampError("the signing certificate is not for time-stamping (EKU)")
    if not (signer.not_valid_before <= gen_time <= signer.not_valid_after):
        raise TimestampError("the signing certificate was not valid at the time-stamp's time")
    chain = _chain(signer, certs, trusted_certs, at or gen_time)
    return TokenInfo(gen_time, hash_name, imprint, info["serial_number"].native,
                     signer.subject.human_friendly, info["policy"].native,
                     signer.not_valid_after, f"{sig_alg}/{sig_hash}",
                     [c.dump() for c in chain])  # fmt: skip


def _chain(signer: x509.Certificate, pool: list[x509.Certificate],
           trusted: list[x509.Certificate], at: dt.datetime) -> list[x509.Certificate]:  # fmt: skip
    """The signer and its issuers up to a trusted certificate, each signature checked."""
    trusted_der = {c.dump() for c in trusted}
    chain, cert = [signer], signer
    for _ in range(8):
        if cert.dump() in trusted_der:
            return chain
        issuer = next((c for c in trusted + pool if c.subject == cert.issuer
                       and c.dump() != cert.dump()), None)  # fmt: skip
        if issuer is None:
            raise TimestampError(f"no trusted certificate above {cert.subject.human_friendly}")
        child = cx509.load_der_x509_certificate(cert.dump())
        try:
            child.verify_directly_issued_by(cx509.load_der_x509_certificate(issuer.dump()))
        except (InvalidSignature, ValueError, TypeError) as e:
            raise TimestampError(f"{cert.subject.human_friendly}: not signed by its issuer: "
                                 f"{str(e) or 'invalid signature'}") from None  # fmt: skip
        if not (issuer.not_valid_before <= at <= issuer.not_valid_after):
            raise TimestampError(f"{issuer.subject.human_friendly}: not valid at {at:%Y-%m-%d}")
        chain.append(issuer)
        cert = issuer
    raise TimestampError("the certificate chain is too long")


MAX_CRL = 20 << 20  # a large CA's list is a few MiB


def _crl_urls(cert: cx509.Certificate) -> list[str]:
    try:
        points = cert.extensions.get_extension_for_class(cx509.CRLDistributionPoints).value
    except cx509.ExtensionNotFound:
        return []
    return [name.value for point in points for name in point.full_name or []
            if isinstance(name, cx509.UniformResourceIdentifier)
            and name.value.startswith(("http://", "https://"))]  # fmt: skip


def _fetch(url: str, timeout: float) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            data = r.read(MAX_CRL + 1)
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise TimestampError(f"{url}: not reached: {e}") from None
    if len(data) > MAX_CRL:
        raise TimestampError(f"{url}: larger than {MAX_CRL} bytes")
    return data


def _issued_by(crl: cx509.CertificateRevocationList, issuer: cx509.Certificate) -> bool:
    """Whether `issuer` issued and signed this revocation list."""
    return crl.issuer == issuer.subject and crl.is_signature_valid(issuer.public_key())


@dataclass
class Revocation:
    """The revocation data of a certificate chain: the CRLs had (DER, each signed by the
    issuer of the certificate that names it) and what could not be had."""

    crls: list[bytes]
    unavailable: list[str]


def revocation_data(chain: list[bytes], timeout: float = TIMEOUT) -> Revocation:
    """The current CRLs of each certificate in `chain` (a signer, then its issuers) from
    its CRL distribution points over HTTP(S), where it names any."""
    certs = [cx509.load_der_x509_certificate(d) for d in chain]
    out = Revocation([], [])
    for cert, issuer in zip(certs, certs[1:], strict=False):
        for url in _crl_urls(cert):
            try:
                crl = cx509.load_der_x509_crl(_fetch(url, timeout))
            except (TimestampError, ValueError) as e:
                out.unavailable.append(str(e) if isinstance(e, TimestampError)
                                       else f"{url}: no DER CRL: {e}")  # fmt: skip
                continue
            if not _issued_by(crl, issuer):
                out.unavailable.append(f"{url}: the list is not signed by {issuer.subject}")
                continue
            out.crls.append(crl.public_bytes(serialization.Encoding.DER))
            break
    return out


def check_revocation(chain: list[bytes], crls: list[bytes], at: dt.datetime) -> None:
    """Raise TimestampError when a certificate of the chain is on its issuer's list: revoked
    before `at` (the time-stamp's time), or at any time for a compromised key."""
    certs = [cx509.load_der_x509_certificate(d) for d in chain]
    lists = [cx509.load_der_x509_crl(d) for d in crls]
    for cert, issuer in zip(certs, certs[1:], strict=False):
        for crl in lists:
            if not _issued_by(crl, issuer):
                continue
            revoked = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            if revoked is None:
                continue
            try:
                reason = revoked.extensions.get_extension_for_class(cx509.CRLReason).value.reason
            except cx509.ExtensionNotFound:
                reason = cx509.ReasonFlags.unspecified
            when = revoked.revocation_date_utc
            compromised = reason in (cx509.ReasonFlags.key_compromise,
                                     cx509.ReasonFlags.ca_compromise)  # fmt: skip
            if compromised or when <= at:
                raise TimestampError(
                    f"{cert.subject.rfc4514_string()} was revoked on {when:%Y-%m-%d} "
                    f"({reason.value})"
                )
