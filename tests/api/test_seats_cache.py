"""The public free-seat lists come from a short shared cache at the rush; personal lists and
an uncached setting always read the database."""

from __future__ import annotations

from django.core.cache import cache
from django.test import Client, override_settings

from kattoo.enrollment.models import SeatPool

from ..conftest import World


def free_seats(client: Client, world: World, path: str, language: str = "en") -> int:
    response = client.get(path, headers={"Accept-Language": language})
    assert response.status_code == 200, response.content
    body = response.json()
    school = (
        body
        if "pools" in body
        else next(s for s in body["items"] if s["id"] == str(world.school.pk))
    )
    return next(p["free"] for p in school["pools"] if p["language"] == "ky")


def take_one(world: World) -> None:
    pool = SeatPool.objects.get(school=world.school, language="ky")
    SeatPool.objects.filter(pk=pool.pk).update(taken=pool.taken + 1)


@override_settings(KATTOO_SEATS_CACHE_SECONDS=2)
def test_list_and_card_are_served_from_the_cache_within_the_window(
    client: Client, world: World
) -> None:
    cache.clear()
    for path in ("/api/v1/schools?limit=200", f"/api/v1/schools/{world.school.pk}"):
        before = free_seats(client, world, path)
        take_one(world)
        assert free_seats(client, world, path) == before  # within the window: cached
        cache.clear()  # the window ends
        assert free_seats(client, world, path) == before - 1


@override_settings(KATTOO_SEATS_CACHE_SECONDS=2)
def test_the_cache_key_holds_the_language_and_the_question(client: Client, world: World) -> None:
    cache.clear()
    path = f"/api/v1/schools/{world.school.pk}"
    english = free_seats(client, world, path, "en")
    take_one(world)
    assert free_seats(client, world, path, "en") == english  # cached for this question
    assert free_seats(client, world, path, "ru") == english - 1  # another language: asked anew
    whole = free_seats(client, world, "/api/v1/schools?limit=200")
    take_one(world)
    narrowed = free_seats(client, world, "/api/v1/schools?limit=200&language=ky")
    assert narrowed == whole - 1  # another question: asked anew


@override_settings(KATTOO_SEATS_CACHE_SECONDS=0)
def test_off_means_always_fresh(client: Client, world: World) -> None:
    path = f"/api/v1/schools/{world.school.pk}"
    before = free_seats(client, world, path)
    take_one(world)
    assert free_seats(client, world, path) == before - 1
