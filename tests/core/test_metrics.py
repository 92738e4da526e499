"""Prometheus metrics: what is counted, who may scrape, and that workers add up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test import Client
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.core.metrics import exposition, registration_counted
from kattoo.enrollment.models import SeatPool
from kattoo.enrollment.services import application_register

from ..conftest import World

ROOT = Path(__file__).resolve().parents[2]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text.decode())
        for s in family.samples
    }


def test_requests_are_counted_and_timed_by_view_method_and_status(client: Client) -> None:
    before = sample("kattoo_http_requests_total", view="healthz", method="GET", status="200")
    timed = sample("kattoo_http_request_duration_seconds_count", view="healthz", method="GET")
    assert client.get("/healthz").status_code == 200
    assert (
        sample("kattoo_http_requests_total", view="healthz", method="GET", status="200")
        == before + 1
    )
    assert (
        sample("kattoo_http_request_duration_seconds_count", view="healthz", method="GET")
        == timed + 1
    )


def test_unknown_paths_and_methods_do_not_make_new_series(client: Client) -> None:
    client.generic("BREW", "/no/such/page/12345")
    client.get("/no/such/page/67890")
    views = {
        s.labels["view"]
        for family in REGISTRY.collect()
        if family.name == "kattoo_http_requests"
        for s in family.samples
    }
    assert not any("12345" in v or "67890" in v for v in views)
    assert sample("kattoo_http_requests_total", view="unresolved", method="other", status="404")


def test_metrics_from_loopback_lists_everything(world: World, client: Client) -> None:
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    names = {f.name for f in text_string_to_metric_families(response.content.decode())}
    assert {
        "kattoo_http_requests",
        "kattoo_http_request_duration_seconds",
        "kattoo_registrations",
        "kattoo_pool_seats_taken",
        "kattoo_pool_seats_capacity",
        "kattoo_pool_fill_ratio",
    } <= names


@pytest.mark.parametrize(
    ("address", "headers"),
    [
        ("10.1.2.3", {}),
        ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}),  # relayed by the local proxy
        ("127.0.0.1", {"HTTP_X_REAL_IP": "203.0.113.9"}),
        ("10.1.2.3", {"HTTP_AUTHORIZATION": "Bearer wrong"}),
    ],
)
def test_metrics_is_not_public(client: Client, settings, address, headers) -> None:
    settings.KATTOO_METRICS = {"TOKEN": "s3cret-scraper", "ALLOW": ["127.0.0.1/32", "::1/128"]}
    response = client.get("/metrics", REMOTE_ADDR=address, **headers)
    assert response.status_code == 404
    assert b"kattoo_" not in response.content


def test_metrics_with_the_token_from_anywhere(client: Client, settings) -> None:
    settings.KATTOO_METRICS = {"TOKEN": "s3cret-scraper", "ALLOW": []}
    response = client.get(
        "/metrics",
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
        HTTP_AUTHORIZATION="Bearer s3cret-scraper",
    )
    assert response.status_code == 200


def test_an_allow_listed_network(client: Client, settings) -> None:
    settings.KATTOO_METRICS = {"TOKEN": "", "ALLOW": ["10.8.0.0/16"]}
    assert client.get("/metrics", REMOTE_ADDR="10.8.4.2").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.9.4.2").status_code == 404
    # No token configured: a bearer header opens nothing.
    assert (
        client.get("/metrics", REMOTE_ADDR="10.9.4.2", HTTP_AUTHORIZATION="Bearer ").status_code
        == 404
    )


def _register(world: World, family) -> object:
    return application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language="ky",
        actor=Actor(user=family.parent),
    )


def test_registrations_by_outcome_accepted_after_commit_only(
    world: World, at_stage1, django_capture_on_commit_callbacks
) -> None:
    accepted = sample("kattoo_registrations_total", outcome="accepted")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _register(world, world.family())
        # Inside the transaction the registration is not yet a fact.
        assert sample("kattoo_registrations_total", outcome="accepted") == accepted
    assert callbacks
    assert sample("kattoo_registrations_total", outcome="accepted") == accepted + 1


def test_a_rolled_back_registration_is_not_counted(world: World, at_stage1) -> None:
    accepted = sample("kattoo_registrations_total", outcome="accepted")
    family = world.family()
    with pytest.raises(RuntimeError), transaction.atomic():
        _register(world, family)
        raise RuntimeError("the request failed after the service")
    assert sample("kattoo_registrations_total", outcome="accepted") == accepted


def test_full_and_refused_are_counted_at_once(world: World, at_stage1) -> None:
    full = sample("kattoo_registrations_total", outcome="full")
    refused = sample("kattoo_registrations_total", outcome="refused")
    SeatPool.objects.filter(campaign=world.campaign, school=world.school, language="ky").update(
        taken=25
    )
    with pytest.raises(RuleViolation, match="no_free_seats"):
        _register(world, world.family())
    stranger = world.family(street=world.elsewhere)
    with pytest.raises(RuleViolation, match="not_in_microdistrict"):
        _register(world, stranger)
    assert sample("kattoo_registrations_total", outcome="full") == full + 1
    assert sample("kattoo_registrations_total", outcome="refused") == refused + 1


def test_an_undecided_answer_is_not_counted() -> None:
    @registration_counted
    def hand_over() -> None:
        return None

    before = sample("kattoo_registrations_total", outcome="accepted")
    hand_over()
    assert sample("kattoo_registrations_total", outcome="accepted") == before


def test_pool_fill_per_district_and_overall(world: World) -> None:
    pools = SeatPool.objects.filter(campaign=world.campaign)
    total = sum(p.capacity for p in pools)
    first = pools.get(school=world.school, language="ky")
    SeatPool.objects.filter(pk=first.pk).update(taken=10)
    samples = scrape(exposition())
    district = world.school.district.soate
    assert samples[("kattoo_pool_seats_taken", (("district", district),))] == 10
    capacity = sum(p.capacity for p in pools.filter(school__district=world.school.district))
    assert samples[("kattoo_pool_seats_capacity", (("district", district),))] == capacity
    assert samples[("kattoo_pool_fill_ratio", (("district", "all"),))] == pytest.approx(10 / total)


def test_pool_fill_is_one_query(world: World, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        exposition()


WORKER = """
import django, os
django.setup()
from kattoo.core.metrics import REQUESTS, REGISTRATIONS
REQUESTS.labels("web:home", "GET", "200").inc(int(os.environ["N"]))
REGISTRATIONS.labels(outcome="full").inc()
"""


def test_several_worker_processes_add_up(tmp_path: Path) -> None:
    """prometheus_client's multiprocess mode: each worker writes its own file in
    PROMETHEUS_MULTIPROC_DIR; one scrape of any worker sums them."""
    for n in (3, 4):
        env = {
            **os.environ,
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "N": str(n),
        }
        subprocess.run([sys.executable, "-c", WORKER], env=env, cwd=ROOT, check=True)  # noqa: S603
    assert len(list(tmp_path.glob("counter_*.db"))) == 2
    samples = scrape(exposition(str(tmp_path)))
    key = (("method", "GET"), ("status", "200"), ("view", "web:home"))
    assert samples[("kattoo_http_requests_total", key)] == 7
    assert samples[("kattoo_registrations_total", (("outcome", "full"),))] == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast path is PostgreSQL's")
def test_the_opening_minute_fast_path_is_counted_once(world: World, client: Client) -> None:
    from ..enrollment.test_fastpath import draft, submit

    accepted = sample("kattoo_registrations_total", outcome="accepted")
    full = sample("kattoo_registrations_total", outcome="full")
    family = world.family()
    draft(world, family)
    assert submit(client, family).status_code == 201
    assert sample("kattoo_registrations_total", outcome="accepted") == accepted + 1
    SeatPool.objects.filter(campaign=world.campaign, school=world.school, language="ky").update(
        taken=25
    )
    late = world.family()
    draft(world, late)
    assert submit(client, late).json()["code"] == "no_free_seats"
    assert sample("kattoo_registrations_total", outcome="full") == full + 1
    assert sample("kattoo_registrations_total", outcome="accepted") == accepted + 1
