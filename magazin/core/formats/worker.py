"""Identification in a process of its own, for large ingests.

Identifying holds Python's GIL for most of its work; in a thread it slows the threads that
copy (and the other way round). A worker process has its own interpreter and uses the
machine's other core while the copying threads wait for the disk. It is told each staged
copy as soon as it is written and reads its head and tail windows from the page cache (no
disk read; sending the windows through a pipe cost more than identifying them); a
receiving thread sets each result. The worker loads the same signature files from the
on-disk cache and reports its agent, which must be the ingest's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection

from .identify import Identification


def _work(conn, droid, container, home) -> None:  # runs in the worker process
    try:
        from .identify import PronomIdentifier

        try:
            os.nice(10)  # the CPU time the ingest leaves while it waits for the disk
        except OSError:
            pass
        ident = PronomIdentifier(droid, container, home)
        conn.send(("ready", ident.agent))
        while True:
            msg = conn.recv()
            if msg is None:
                break
            key, name, path = msg
            conn.send(("result", key, ident.identify(path, name).as_dict()))
        conn.send(("done",))
    except EOFError:  # the ingest is gone (killed): nothing to report to
        pass
    except BaseException:  # noqa: BLE001 - reported to the ingest, which fails
        try:
            conn.send(("error", traceback.format_exc()))
        except OSError:
            pass


class IdentifyProcess:
    """A worker process identifying windows; `submit` from any thread, `finish` to wait."""

    def __init__(self, identifier, on_end: Callable[[str | None], None] = lambda e: None):
        droid, container, home = identifier.files
        self.agent = identifier.agent
        # a fresh interpreter (`python -m`), neither a fork of this threaded process nor a
        # multiprocessing spawn, which would re-run the caller's main script
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        args = [
            str(to_child_r),
            str(from_child_w),
            str(droid),
            str(container or ""),
            str(home or ""),
        ]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", __name__, *args],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.conn = _Duplex(
            Connection(from_child_r, writable=False), Connection(to_child_w, readable=False)
        )
        self.send_lock = threading.Lock()
        self.pending: dict[int, Callable[[Identification], None]] = {}
        self.error: str | None = None
        self.ready = threading.Event()
        self.on_end = on_end
        self.receiver = threading.Thread(target=self._receive, name="identify-results", daemon=True)
        self.receiver.start()

    def _receive(self) -> None:
        try:
            while True:
                msg = self.conn.recv()
                if msg[0] == "ready":
                    if msg[1] != self.agent:
                        self.error = f"identification worker uses {msg[1]}, not {self.agent}"
                    self.ready.set()
                elif msg[0] == "result":
                    self.pending.pop(msg[1])(Identification(**msg[2]))
                elif msg[0] == "error":
                    self.error = msg[1]
                    break
                else:  # done
                    break
        except (EOFError, OSError) as e:
            self.error = self.error or f"identification worker ended: {e!r}"
        finally:
            self.ready.set()
            self.on_end(self.error)

    def submit(self, key: int, name: str, path, done: Callable) -> None:
        """Identify the file at `path` (the staged copy) named `name` (for its extension)."""
        self.pending[key] = done
        with self.send_lock:
            if self.error is None:
                self.conn.send((key, name, str(path)))

    def finish(self) -> None:
        try:
            with self.send_lock:
                if self.error is None:
                    self.conn.send(None)
        except OSError as e:
            self.error = self.error or f"identification worker ended: {e!r}"
        self.receiver.join()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.conn.close()
        if self.error is not None:
            raise RuntimeError(f"format identification failed: {self.error}")
        if self.pending:
            raise RuntimeError(f"format identification lost {len(self.pending)} files")

    def abort(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.conn.close()


class _Duplex:
    """Two one-way connections as one."""

    def __init__(self, rx: Connection, tx: Connection):
        self.rx, self.tx = rx, tx

    def recv(self):
        return self.rx.recv()

    def send(self, obj) -> None:
        self.tx.send(obj)

    def close(self) -> None:
        self.rx.close()
        self.tx.close()


if __name__ == "__main__":  # the worker process
    from pathlib import Path

    rfd, wfd, droid_arg, container_arg, home_arg = sys.argv[1:6]
    _work(
        _Duplex(Connection(int(rfd), writable=False), Connection(int(wfd), readable=False)),
        Path(droid_arg),
        Path(container_arg) if container_arg else None,
        Path(home_arg) if home_arg else None,
    )
