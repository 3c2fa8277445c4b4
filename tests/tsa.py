"""A local time-stamping authority for the tests: `openssl ts -reply` behind a loopback HTTP
endpoint (RFC 3161 over HTTP: application/timestamp-query in, application/timestamp-reply
out), with its own CA, so that the tokens Magazin gets are real and `openssl ts -verify`
can check them. The TSA's certificate names the CA's revocation list (served at /ca.crl, the
TSA revoked by `revoke()`). Optionally it asks for HTTP basic credentials, or speaks TLS and
asks for a client certificate the CA issued (`client.crt`, `client.key`)."""

from __future__ import annotations

import base64
import datetime as dt
import ssl
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CONFIG = """
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
certs = $dir/ca.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
other_policies = 1.3.6.1.4.1.99999.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class LocalTsa:
    """Keys, certificates and the HTTP endpoint; `url`, `ca` (the certificate to trust),
    `requests` (how many it answered)."""

    def __init__(self, folder: Path, user: str | None = None, password: str | None = None,
                 days: int = 365, tls: bool = False):  # fmt: skip
        self.dir = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.user, self.password = user, password
        self.requests = 0
        self.revoked: dict[int, str] = {}  # serial -> reason
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        port = self.server.server_port
        self.url = f"http{'s' if tls else ''}://127.0.0.1:{port}/tsa"
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
                 "-out", "ca.crt", "-subj", "/CN=Magazin Test CA", "-days", "3650",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)  # fmt: skip
        crl = f"crlDistributionPoints=URI:http{'s' if tls else ''}://127.0.0.1:{port}/ca.crl\n"
        self._issue("tsa", "/CN=Magazin Test TSA", days,
                    "extendedKeyUsage=critical,timeStamping\n"
                    "keyUsage=critical,digitalSignature\n" + crl)  # fmt: skip
        (folder / "serial").write_text("01\n")
        (folder / "tsa.cnf").write_text(CONFIG.format(dir=folder))
        self.ca = folder / "ca.crt"
        self._write_crl()
        if tls:
            self._issue(
                "server",
                "/CN=127.0.0.1",
                days,
                "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
            )
            self._issue("client", "/CN=Magazin Archiv", days, "extendedKeyUsage=clientAuth\n")
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(folder / "server.crt", folder / "server.key")
            context.load_verify_locations(self.ca)
            context.verify_mode = ssl.CERT_REQUIRED  # no client certificate, no time-stamp
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _issue(self, name: str, subject: str, days: int, extensions: str) -> None:
        """A key and a certificate the CA signs: <name>.key, <name>.crt."""
        (self.dir / f"{name}.cnf").write_text(extensions)
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
                 f"{name}.csr", "-subj", subject, cwd=self.dir)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.crt", "-days", str(days),
                 "-extfile", f"{name}.cnf", cwd=self.dir)  # fmt: skip

    def _write_crl(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization

        ca = x509.load_pem_x509_certificate(self.ca.read_bytes())
        key = serialization.load_pem_private_key((self.dir / "ca.key").read_bytes(), None)
        now = dt.datetime.now(dt.UTC)
        builder = (x509.CertificateRevocationListBuilder().issuer_name(ca.subject)
                   .last_update(now - dt.timedelta(minutes=1))
                   .next_update(now + dt.timedelta(days=7)))  # fmt: skip
        for serial, reason in self.revoked.items():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial)
                .revocation_date(now - dt.timedelta(days=400))
                .add_extension(x509.CRLReason(x509.ReasonFlags[reason]), critical=False)
                .build())  # fmt: skip
        crl = builder.sign(key, hashes.SHA256())
        (self.dir / "ca.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))

    def revoke(self, reason: str = "key_compromise") -> None:
        """Put the TSA's certificate on the CA's revocation list."""
        from cryptography import x509

        cert = x509.load_pem_x509_certificate((self.dir / "tsa.crt").read_bytes())
        self.revoked[cert.serial_number] = reason
        self._write_crl()

    def _handler(self):
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server's name
                if self.path != "/ca.crl":
                    self.send_response(404)
                    self.end_headers()
                    return
                crl = (tsa.dir / "ca.crl").read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(crl)))
                self.end_headers()
                self.wfile.write(crl)

            def do_POST(self):  # noqa: N802 - http.server's name
                if tsa.user is not None:
                    expected = base64.b64encode(f"{tsa.user}:{tsa.password}".encode()).decode()
                    if self.headers.get("Authorization") != f"Basic {expected}":
                        self.send_response(401)
                        self.send_header("WWW-Authenticate", 'Basic realm="tsa"')
                        self.end_headers()
                        return
                if self.headers.get("Content-Type") != "application/timestamp-query":
                    self.send_response(415)
                    self.end_headers()
                    return
                query = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with tsa.lock, tempfile.TemporaryDirectory() as tmp:
                    q, r = Path(tmp) / "q.tsq", Path(tmp) / "r.tsr"
                    q.write_bytes(query)
                    done = subprocess.run(
                        ["openssl", "ts", "-reply", "-config", str(tsa.dir / "tsa.cnf"),
                         "-queryfile", str(q), "-out", str(r)],
                        capture_output=True, timeout=60,
                    )  # fmt: skip
                    tsa.requests += 1
                    if done.returncode != 0:
                        self.send_response(500)
                        self.end_headers()
                        return
                    reply = r.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        return Handler

    def openssl_verify(self, token: bytes, digest: bytes, folder: Path) -> str:
        """`openssl ts -verify` of a token on a digest: its output (raises if it fails)."""
        path = folder / "token.der"
        path.write_bytes(token)
        done = subprocess.run(
            ["openssl", "ts", "-verify", "-digest", digest.hex(), "-in", str(path), "-token_in",
             "-CAfile", str(self.ca), "-untrusted", str(self.dir / "tsa.crt")],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
