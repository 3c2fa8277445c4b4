"""A pool of long-lived validator processes, each capped in memory and time-boxed per file.

A hostile or broken file must neither hang the archive nor exhaust its memory: each worker
process runs with an address-space limit (inherited by the tools it starts), and a file
whose validation takes longer than the policy's timeout gets `not validated: timed out` -
its worker (with every tool it started: a session of its own) is killed and replaced. The
workers live as long as the pool, so the cost of starting Python and importing the
validators is paid once per worker, not once per file.
"""

from __future__ import annotations

import json
import os
import queue
import resource
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import asdict
from multiprocessing.connection import Connection

from ...i18n import N_
from . import Validation, ValidatorPolicy, family_of, not_validated, validate

# the tool named when a run gives no answer (timed out, the worker died)
FAMILY_TOOLS = {"pdf": "pikepdf", "image": "Pillow", "jp2": "jpylyzer",
                "odf": "Magazin package check", "ooxml": "Magazin package check",
                "xml": "libxml2", "email": "Python email", "av": "MediaConch, ffmpeg",
                "text": "Magazin text check"}  # fmt: skip


class _Worker:
    """One validator process and the two pipes to it."""

    def __init__(self, policy: ValidatorPolicy):
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", __name__, str(to_child_r), str(from_child_w),
             json.dumps(asdict(policy))],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its tools go with it when it is killed
        )  # fmt: skip
        os.close(to_child_r)
        os.close(from_child_w)
        self.rx = Connection(from_child_r, writable=False)
        self.tx = Connection(to_child_w, readable=False)

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        self.rx.close()
        self.tx.close()

    def stop(self) -> None:
        try:
            self.tx.send(None)
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


class ValidatorPool:
    """`submit` files from any thread; each result goes to its callback (in a pool thread)."""

    def __init__(self, policy: ValidatorPolicy, workers: int | None = None):
        self.policy = policy
        self.jobs: queue.Queue = queue.Queue()
        self.replaced = 0  # workers killed and replaced (timeouts, crashes)
        n = max(1, workers or policy.workers)
        self.threads = [
            threading.Thread(target=self._slot, name=f"validate-{i}", daemon=True) for i in range(n)
        ]
        for t in self.threads:
            t.start()

    def submit(self, path: str, puid: str | None, mime: str | None,
               done: Callable[[Validation], None]) -> None:  # fmt: skip
        self.jobs.put((str(path), puid, mime, done))

    def validate(self, path: str, puid: str | None, mime: str | None) -> Validation:
        return self.validate_many([(path, puid, mime)])[0]

    def validate_many(self, files: list[tuple[str, str | None, str | None]]) -> list[Validation]:
        """Validate (path, puid, mime) each, the workers taking several at once; the results
        in the same order."""
        results: list[Validation | None] = [None] * len(files)
        left = [len(files)]
        done = threading.Condition()

        def finish(i: int, v: Validation) -> None:
            with done:
                results[i] = v
                left[0] -= 1
                done.notify_all()

        for i, (path, puid, mime) in enumerate(files):
            self.submit(path, puid, mime, lambda v, i=i: finish(i, v))
        with done:
            done.wait_for(lambda: left[0] == 0)
        return results

    def close(self) -> None:
        for _ in self.threads:
            self.jobs.put(None)
        for t in self.threads:
            t.join()

    def __enter__(self) -> ValidatorPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _slot(self) -> None:
        worker: _Worker | None = None
        try:
            while (job := self.jobs.get()) is not None:
                path, puid, mime, done = job
                family = family_of(puid, mime)
                if family is None:  # no validator: no need to ask a worker
                    done(validate(path, puid, mime, self.policy))
                    continue
                if worker is None:
                    worker = _Worker(self.policy)
                result, worker = self._run(worker, path, puid, mime, family)
                done(result)
        finally:
            if worker is not None:
                worker.stop()

    def _run(self, worker: _Worker, path, puid, mime, family) -> tuple[Validation, _Worker | None]:
        tool = FAMILY_TOOLS.get(family, "Magazin")
        try:
            worker.tx.send((path, puid, mime))
            if worker.rx.poll(self.policy.timeout_s):
                return Validation(**worker.rx.recv()), worker
            reason = N_("timed out after {s:g} s").format(s=self.policy.timeout_s)
        except (EOFError, OSError):
            code = worker.proc.poll()
            reason = N_("the validator ended unexpectedly (exit code {code}; memory limit "
                        "{mb} MB)").format(code=code, mb=self.policy.memory_mb)  # fmt: skip
        worker.kill()
        self.replaced += 1
        return not_validated(tool, reason), None


class ValidateBeside:
    """Validation beside an ingest: each staged file is handed over as soon as it is
    identified and validated from its staged copy (the page cache) by the pool, while the
    ingest goes on; `wait_for` waits for the files one batch of AIPs describes and sets their
    `validation`."""

    def __init__(self, pool: ValidatorPool):
        self.pool = pool
        self.cond = threading.Condition()

    def submit(self, sf) -> None:
        """`sf`: a staged file (path, copies, ident); its copy is complete and closed."""

        def done(v: Validation) -> None:
            with self.cond:
                sf.validation = v
                self.cond.notify_all()

        self.pool.submit(str(sf.copies[0]), sf.ident.puid, sf.ident.mime, done)

    def wait_for(self, files: list) -> None:
        with self.cond:
            self.cond.wait_for(lambda: all(f.validation is not None for f in files))

    def close(self) -> None:
        self.pool.close()


def _work(rx: Connection, tx: Connection, policy: ValidatorPolicy) -> None:  # worker process
    limit = policy.memory_mb * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard >= limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        os.nice(5)  # the ingest's copying goes first
    except OSError:
        pass
    while True:
        try:
            msg = rx.recv()
        except EOFError:
            return
        if msg is None:
            return
        path, puid, mime = msg
        try:
            result = validate(path, puid, mime, policy)
        except MemoryError:
            result = not_validated(FAMILY_TOOLS.get(family_of(puid, mime) or "", "Magazin"),
                                   N_("more memory needed than the limit of {mb} MB").format(
                                       mb=policy.memory_mb))  # fmt: skip
        except Exception as e:  # noqa: BLE001 - a validator's own failure: reported, not fatal
            traceback.print_exc()
            result = not_validated(
                FAMILY_TOOLS.get(family_of(puid, mime) or "", "Magazin"),
                N_("the validator failed: {error}").format(error=f"{type(e).__name__}: {e}"),
            )
        tx.send(result.as_dict())


if __name__ == "__main__":
    rfd, wfd, policy_json = sys.argv[1:4]
    _work(
        Connection(int(rfd), writable=False),
        Connection(int(wfd), readable=False),
        ValidatorPolicy(**json.loads(policy_json)),
    )
