"""The sweep as a task for the worker (``manage.py db_worker``): enqueued at each offer's
deadline where the backend can defer, and safe to run any number of times."""

from __future__ import annotations

from django_tasks import task


@task()
def waitlist_sweep_task() -> int:
    from .services import waitlist_sweep

    return waitlist_sweep()
