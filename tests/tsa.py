"""A local time-stamping authority for the tests: `openssl ts -reply` behind a loopback HTTP
endpoint (RFC 3161 over HTTP: application/timestamp-query in, application/timestamp-reply
out), with its own CA, so that the tokens Magazin gets are real and `openssl ts -verify`
can check them. Optionally it asks for HTTP basic credentials."""

from __future__ import annotations

import base64
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
                 days: int = 365):  # fmt: skip
        self.dir = folder
        folder.mkdir(parents=True, exist_ok=True)
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
                 "-out", "ca.crt", "-subj", "/CN=Magazin Test CA", "-days", "3650",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)  # fmt: skip
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out",
                 "tsa.csr", "-subj", "/CN=Magazin Test TSA", cwd=folder)  # fmt: skip
        (folder / "ext.cnf").write_text(
            "extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature\n"
        )
        _openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", "tsa.crt", "-days", str(days),
                 "-extfile", "ext.cnf", cwd=folder)  # fmt: skip
        (folder / "serial").write_text("01\n")
        (folder / "tsa.cnf").write_text(CONFIG.format(dir=folder))
        self.ca = folder / "ca.crt"
        self.user, self.password = user, password
        self.requests = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}/tsa"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handler(self):
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

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
