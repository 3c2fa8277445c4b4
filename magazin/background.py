"""The background work of an installation, for `magazin worker` and in-process for `magazin
serve`: queued ingest jobs (checked every second, so an upload starts at once), and every
`interval` seconds the journal's segments, the xdomea inboxes, the text extraction for the
search and a share of the fixity checks (every copy once per `[audit] cycle_days`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.db import close_old_connections

from magazin.access.search import catch_up, extract_pending
from magazin.catalog.audit import scheduled_audit
from magazin.catalog.evidence import run_due
from magazin.catalog.journal import flush_due
from magazin.catalog.refresh import recover
from magazin.core.config import Home
from magazin.ingest.jobs import prune_tasks, recover_abandoned, run_pending
from magazin.xdomea.inbox import poll

JOB_CHECK_SECONDS = 1.0
log = logging.getLogger("magazin.background")


def round_of_work(home: Home, user: str, interval: float = 60.0) -> list:
    """One full round: changes killed runs left, queued jobs, the xdomea inboxes, the text of
    new files, then this round's share of the fixity checks."""
    for oid in recover(home):
        log.warning("%s: a change a killed run left was completed", oid)
    if n := flush_due(home, user):
        log.info("journal: %d entries stored", n)
    for r in run_due(home, user):
        log.info("evidence: %s time-stamped up to journal entry %s with %d AIP version(s)",
                 r["tenant"], r["journal_until"], r["versions"])  # fmt: skip
    run_pending()
    prune_tasks()
    handled = poll(home, None, user)
    run_pending()  # jobs that came in meanwhile go before the (longer) text extraction
    while n := extract_pending(home):
        log.info("text of %d unit(s) extracted for the search", n)
        run_pending()
    if n := catch_up(prune=True):
        log.info("full-text index: %d unit(s) indexed", n)
    report = scheduled_audit(home, user, interval, budget_seconds=max(interval, 5.0))
    if report["checked"]:
        log.info("fixity: %d copies checked, %d problem(s), %d repaired", report["checked"],
                 len(report["failed"]), len(report["repaired"]))  # fmt: skip
    return handled


def run_forever(
    home: Home,
    user: str,
    interval: float,
    report: Callable[[object], None],
    stop: threading.Event,
) -> None:
    """Loop until `stop` is set; a failing round is reported and the next one tries again."""
    try:
        for jid in recover_abandoned():
            log.warning("ingest job %s: its worker had ended; queued again", jid)
    except Exception as e:
        log.error("recovering jobs failed: %s: %s", type(e).__name__, e)
    last = 0.0
    while not stop.is_set():
        try:
            if time.monotonic() - last >= interval:
                last = time.monotonic()
                for h in round_of_work(home, user, interval):
                    report(h)
            else:
                run_pending()
        except Exception as e:  # keep going; the next round tries again
            log.error("background work failed: %s: %s", type(e).__name__, e)
        finally:
            close_old_connections()
        stop.wait(JOB_CHECK_SECONDS)
