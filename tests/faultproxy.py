"""A fault-injecting TCP proxy on loopback in front of the real S3 gateway.

`faults` connections (or every one, with faults=None) get the fault of `mode` instead of
being passed through: "503" answers the request with `503 Slow Down` (an S3 error the client
retries), "reset" closes the connection at once, "hang" reads the request and never answers
(the client's timeout). Turning a fault on also closes the connections the client keeps
alive, so that its next request meets the fault.
"""

from __future__ import annotations

import socket
import threading

_SLOW_DOWN = (
    b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nConnection: close\r\n"
    b"Content-Length: 107\r\n\r\n"
    b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown</Code>"
    b"<Message>injected</Message></Error>"
)


class FaultProxy:
    def __init__(self, target: str):
        host, port = target.rsplit("//", 1)[-1].split(":")
        self.target = (host, int(port))
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.endpoint = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.mode: str | None = None
        self.faults: int | None = 0
        self.injected = 0
        self.passed = 0
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def inject(self, mode: str | None, faults: int | None = None) -> None:
        """The next `faults` connections (None: all) get `mode`; None: pass everything."""
        with self._lock:
            self.mode, self.faults = mode, faults
            held = list(self._open)
        for s in held:  # kept-alive connections: the next request opens a new one
            _close(s)

    def close(self) -> None:
        self._closing = True
        _close(self.server)
        for s in list(self._open):
            _close(s)

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            with self._lock:
                mode = self.mode
                if mode is not None and (self.faults is None or self.faults > 0):
                    if self.faults is not None:
                        self.faults -= 1
                    self.injected += 1
                else:
                    mode = None
                    self.passed += 1
            threading.Thread(target=self._serve, args=(client, mode), daemon=True).start()

    def _serve(self, client: socket.socket, mode: str | None) -> None:
        if mode == "reset":
            client.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            _close(client)
            return
        if mode in ("503", "hang"):
            self._open.add(client)
            try:
                _read_head(client)
                if mode == "503":
                    client.sendall(_SLOW_DOWN)
                    _close(client)
                else:
                    client.recv(1)  # until the client gives up
            except OSError:
                pass
            finally:
                self._open.discard(client)
                _close(client)
            return
        try:
            upstream = socket.create_connection(self.target)
        except OSError:
            _close(client)
            return
        self._open.update((client, upstream))

        def pipe(a: socket.socket, b: socket.socket) -> None:
            try:
                while data := a.recv(65536):
                    b.sendall(data)
            except OSError:
                pass
            finally:
                _close(a)
                _close(b)
                self._open.discard(a)
                self._open.discard(b)

        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)


def _read_head(s: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return
        data += chunk


def _close(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass
