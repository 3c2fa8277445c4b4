"""The background work of an installation, for `magazin worker` and in-process for `magazin
serve`: queued ingest jobs (checked every second, so an upload starts at once), and every
`interval` seconds the xdomea inboxes and the text extraction for the search."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

from django.db import close_old_connections

from magazin.core.config import Home

JOB_CHECK_SECONDS = 1.0


def round_of_work(home: Home, user: str) -> list:
    """One full round: queued jobs, the xdomea inboxes, then the text of new files."""
    from magazin.access.search import extract_pending
    from magazin.ingest.jobs import prune_tasks, run_pending
    from magazin.xdomea.inbox import poll

    run_pending()
    prune_tasks()
    handled = poll(home, None, user)
    run_pending()  # jobs that came in meanwhile go before the (longer) text extraction
    while extract_pending(home):
        run_pending()
    return handled


def run_forever(
    home: Home,
    user: str,
    interval: float,
    report: Callable[[object], None],
    stop: threading.Event,
) -> None:
    """Loop until `stop` is set; a failing round is reported and the next one tries again."""
    from magazin.ingest.jobs import recover_abandoned, run_pending

    try:
        for jid in recover_abandoned():
            print(f"ingest job {jid}: its worker had ended; queued again", file=sys.stderr)
    except Exception as e:
        print(f"recovering jobs failed: {type(e).__name__}: {e}", file=sys.stderr)
    last = 0.0
    while not stop.is_set():
        try:
            if time.monotonic() - last >= interval:
                last = time.monotonic()
                for h in round_of_work(home, user):
                    report(h)
            else:
                run_pending()
        except Exception as e:  # keep going; the next round tries again
            print(f"background work failed: {type(e).__name__}: {e}", file=sys.stderr)
        finally:
            close_old_connections()
        stop.wait(JOB_CHECK_SECONDS)
