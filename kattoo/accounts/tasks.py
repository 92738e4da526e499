"""Sign-in work that never runs in the request (the task worker, ``manage.py db_worker``)."""

from __future__ import annotations

from django_tasks import task

from .login import login_code_deliver


@task()
def login_code_send(challenge_id: int) -> str:
    """Look up the phone for a sign-in challenge and send its code (kattoo.accounts.login)."""
    return login_code_deliver(challenge_id)
