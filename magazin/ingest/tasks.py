"""The background tasks of ingest (django-tasks; run by `magazin worker` or `magazin serve`)."""

from __future__ import annotations

from django_tasks import task


@task()
def run_ingest_job(jid: str) -> str:
    """Run one ingest job; the outcome is on the job, the task returns its state."""
    from .jobs import run_job

    return run_job(jid).state
