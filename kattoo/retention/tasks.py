"""The purge as a task for the worker (``manage.py db_worker``), for a daily schedule."""

from __future__ import annotations

from django_tasks import task

from kattoo.core.actors import Actor

from .services import personal_data_purge


@task()
def personal_data_purge_task() -> dict[str, int]:
    return personal_data_purge(actor=Actor.system()).as_dict()
