"""Redis down is never a 500 (kattoo/core/cache.py, ADR 0020): the cache backend points at a
closed port. Reads and registrations keep working from the database; sign-ins that must count
answer a clean 503 with Retry-After before checking anything; /readyz says why. The real Redis
stop under load is tests/reliability/test_redis_stop.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import translation

from kattoo.accounts.models import Role
from kattoo.api.cache import seats_cached
from kattoo.audit.models import AuditEvent
from kattoo.core.cache import CacheUnavailable, cache_get, cache_set
from kattoo.core.errors import ERRORS
from kattoo.integrations.registry.health import (
    registry_failure_mark,
    registry_recently_failed,
    registry_success_mark,
)

from ..api.test_applicant_api import Api, parent_api, problem  # noqa: F401 (fixture)
from ..conftest import World
from ..web.staff.conftest import PASSWORD, staff_user, totp_device

REDIS_GONE = {
    "default": {
        "BACKEND": "kattoo.core.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


@pytest.fixture
def redis_gone() -> Iterator[None]:
    with override_settings(CACHES=REDIS_GONE, KATTOO_SEATS_CACHE_SECONDS=1):
        yield


def test_every_operation_raises_cache_unavailable(redis_gone) -> None:
    for operation in (
        lambda: cache.get("k"),
        lambda: cache.set("k", 1),
        lambda: cache.add("k", 0),
        lambda: cache.incr("k"),
        lambda: cache.delete("k"),
    ):
        with pytest.raises(CacheUnavailable, match="ConnectionError"):
            operation()


def test_soft_reads_and_writes_are_misses(redis_gone) -> None:
    cache_set("k", 1, timeout=5)
    assert cache_get("k") is None
    registry_failure_mark()
    assert registry_recently_failed() is False
    registry_success_mark()
    computed: list[int] = []

    def compute() -> dict[str, int]:
        computed.append(1)
        return {"n": len(computed)}

    # Nothing is kept: each call asks the database.
    assert [seats_cached(["q"], compute) for _ in range(2)] == [{"n": 1}, {"n": 2}]


def test_public_school_list_and_card_read_the_database(
    client: Client, world: World, redis_gone
) -> None:
    for path in ("/api/v1/schools?limit=200", f"/api/v1/schools/{world.school.pk}"):
        response = client.get(path)
        assert response.status_code == 200, response.content
    assert client.get("/").status_code == 200


def test_registration_keeps_working(parent_api, world: World, at_stage1, redis_gone) -> None:  # noqa: F811
    family, api = parent_api
    response = api.post(
        "/applications",
        {"child": str(family.child.pk), "school": str(world.school.pk), "language": "ky"},
    )
    assert response.status_code == 201, response.content
    assert api.get("/applications").json()["items"][0]["status"] == "registered"


def test_applicant_code_request_fails_closed_with_503(
    client: Client, world: World, redis_gone
) -> None:
    pin = world.family().parent.person.pin
    before = AuditEvent.objects.count()
    response = Api(client, language="ru").post("/auth/code", {"pin": pin})
    body = problem(response, 503, "service_unavailable")
    assert response["Retry-After"] == "5"
    with translation.override("ru"):
        assert body["title"] == str(ERRORS["service_unavailable"][1])
    assert AuditEvent.objects.count() == before  # no code sent, nothing written


def test_staff_sign_in_fails_closed_before_the_password_is_checked(
    world: World, redis_gone
) -> None:
    user = staff_user(Role.MINISTRY_ANALYST)
    totp_device(user)
    client = Client(raise_request_exception=False)
    client.cookies["django_language"] = "ru"
    for password in ("wrong", PASSWORD):  # the same answer: an outage is no password oracle
        response = client.post(
            "/staff/login/", {"username": user.username, "password": password, "code": "123456"}
        )
        assert response.status_code == 503 and response["Retry-After"] == "5"
        with translation.override("ru"):
            assert str(ERRORS["service_unavailable"][1]) in response.content.decode()
    assert not AuditEvent.objects.filter(action__startswith="staff.login").exists()


def test_staff_token_fails_closed(client: Client, world: World, redis_gone) -> None:
    user = staff_user(Role.MINISTRY_ANALYST)
    totp_device(user)
    response = Api(client).post(
        "/auth/staff-token", {"username": user.username, "password": PASSWORD, "code": "000000"}
    )
    problem(response, 503, "service_unavailable")


def test_readyz_names_the_cache(client: Client, redis_gone) -> None:
    response = client.get("/readyz")
    assert response["Retry-After"].isdigit()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["checks"]["database"] == "ok"
    assert body["cache"].startswith("unavailable: ConnectionError")
    assert body["checks"]["cache"] == body["cache"]
    assert client.get("/healthz").json() == {"status": "ok"}
