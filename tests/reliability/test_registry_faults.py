"""Registry faults during sign-in and child linking, end to end: the web and the API over the
real X-Road client and the Tunduk simulator (issue 7, reliability).

Under an outage, answers slower than the client's timeout and failing exchanges, the user gets
the translated ``registry_unavailable`` answer, nothing is written (row counts of every table
the actions touch stay the same), and the same action succeeds once the fault is cleared. A
code request is the exception by design (ADR 0023): it answers alike whatever the registry
does, and its lookup in the worker sends nothing under a fault."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from kattoo.accounts.models import ApiToken, LoginChallenge, User, token_digest
from kattoo.accounts.services import applicant_for_pin, token_issue
from kattoo.audit.models import AuditEvent
from kattoo.core.errors import ERRORS
from kattoo.enrollment.models import Application
from kattoo.notifications.models import Notification
from kattoo.people.models import ChildLink, Person
from kattoo.tunduk_sim.server import RunningSimulator

from ..api.test_applicant_api import Api, problem
from ..conftest import SYSTEM
from ..notifications.phone import sign_in_code
from ..tunduk_sim.support import Cast

FAULTS: dict[str, dict[str, Any]] = {
    "outage": {"outage": True},
    "hang": {"hang": True},
    "slower-than-timeout": {"latency_ms": 400},  # the client reads for 0.25 s (conftest)
    "x-road-errors": {"error_rate": 1.0, "error_type": "Server.ServerProxy.DatabaseError"},
    "provider-down": {"provider_error_rate": 1.0},
}


def rows() -> dict[str, int]:
    models = (
        User,
        Person,
        ChildLink,
        LoginChallenge,
        ApiToken,
        Notification,
        AuditEvent,
        Application,
    )
    return {model.__name__: model.objects.count() for model in models}


def recover(simulator: RunningSimulator) -> None:
    """Tunduk is healthy again; the breaker lets a trial call through after its reset time."""
    simulator.app.faults_reset()
    time.sleep(settings.KATTOO_XROAD["BREAKER_RESET_SECONDS"] + 0.05)


def title(language: str) -> str:
    with translation.override(language):
        return str(ERRORS["registry_unavailable"][1])


def unavailable(response: Any) -> dict[str, Any]:
    body = problem(response, 503, "registry_unavailable")
    assert response["Retry-After"].isdigit()
    return body


# -- sign-in ----------------------------------------------------------------------------


def outcome(challenge: str) -> str:
    """What the background lookup did with the challenge (audited; the client is not told)."""
    found = LoginChallenge.objects.get(handle_digest=token_digest(challenge))
    event = AuditEvent.objects.filter(
        action__in=["login.code_sent", "login.code_not_sent"], object_id=str(found.pk)
    ).get()
    return str(event.data["outcome"])


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_api_sign_in_during_a_fault_sends_nothing_and_works_after(
    client: Client, campaign, tunduk: RunningSimulator, cast: Cast, fault: str
) -> None:
    """Asking for a code answers alike whatever the registry does (ADR 0023): the lookup runs
    in the worker, and under a fault it sends nothing and creates no account."""
    pin = cast.mother["pin"]
    before = rows()
    tunduk.app.faults_update(FAULTS[fault])
    started = Api(client, language="ru").post("/auth/code", {"pin": pin})
    assert started.status_code == 202, started.content
    assert outcome(started.json()["challenge"]) == "registry_unavailable"
    after = rows()
    assert (after["User"], after["Person"], after["Notification"]) == (
        before["User"],
        before["Person"],
        before["Notification"],
    )

    recover(tunduk)
    api = Api(client)
    started = api.post("/auth/code", {"pin": pin})
    assert started.status_code == 202, started.content
    challenge = started.json()["challenge"]
    code = sign_in_code(challenge)
    token = api.post("/auth/token", {"challenge": challenge, "code": code})
    assert token.status_code == 201, token.content


def test_a_fault_at_verification_keeps_the_code_good(
    client: Client, campaign, tunduk: RunningSimulator, cast: Cast
) -> None:
    pin = cast.mother["pin"]
    api = Api(client, language="ru")
    challenge = api.post("/auth/code", {"pin": pin}).json()["challenge"]
    code = sign_in_code(challenge)
    tunduk.app.faults_update({"outage": True})
    body = unavailable(api.post("/auth/token", {"challenge": challenge, "code": code}))
    assert body["title"] == title("ru") != title("en")
    assert not User.objects.filter(username=pin).exists()
    recover(tunduk)
    token = api.post("/auth/token", {"challenge": challenge, "code": code})
    assert token.status_code == 201, token.content


def test_retrying_sign_in_through_an_outage_is_not_rate_limited(
    client: Client, campaign, tunduk: RunningSimulator, cast: Cast
) -> None:
    """A code that was never sent does not count towards the PIN's limits, so a parent who
    keeps trying during an outage can still sign in once Tunduk is back."""
    pin = cast.mother["pin"]
    tunduk.app.faults_update({"outage": True})
    for _ in range(settings.KATTOO_LOGIN["CODES_PER_PIN_CLIENT"] + 1):
        started = Api(client).post("/auth/code", {"pin": pin})
        assert started.status_code == 202, started.content
        assert outcome(started.json()["challenge"]) == "registry_unavailable"
    recover(tunduk)
    started = Api(client).post("/auth/code", {"pin": pin})
    assert started.status_code == 202, started.content
    assert outcome(started.json()["challenge"]) == "sent"


def test_intermittent_registry_errors_are_absorbed_by_retries(
    client: Client, campaign, tunduk: RunningSimulator, cast: Cast
) -> None:
    tunduk.app.faults_update({"error_rate": 0.5})  # every other exchange fails
    started = Api(client).post("/auth/code", {"pin": cast.mother["pin"]})
    assert started.status_code == 202, started.content
    assert outcome(started.json()["challenge"]) == "sent"
    assert tunduk.app.stats()["errors"] > 0


@pytest.mark.parametrize("fault", ["outage", "hang"])
def test_web_sign_in_during_a_fault_explains_and_works_after(
    client: Client, campaign, tunduk: RunningSimulator, cast: Cast, fault: str
) -> None:
    """The code page tells what to do when no SMS comes; the code of a request made once
    Tunduk is back signs the parent in."""
    pin = cast.mother["pin"]
    client.cookies["django_language"] = "en"
    tunduk.app.faults_update(FAULTS[fault])
    page = client.post("/login/", {"pin": pin, "next": "/children/"})
    assert page.status_code == 302 and page["Location"].startswith("/login/code/")
    text = client.get(page["Location"]).content.decode()
    assert "No SMS within a couple of minutes?" in text
    assert outcome(client.session["kattoo_login_challenge"]) == "registry_unavailable"

    recover(tunduk)
    page = client.post("/login/", {"pin": pin, "next": "/children/"})
    assert page.status_code == 302 and page["Location"].startswith("/login/code/")
    code = sign_in_code(client.session["kattoo_login_challenge"])
    done = client.post(page["Location"], {"code": code})
    assert done.status_code == 302 and done["Location"] == "/children/"


# -- the children of a signed-in parent ---------------------------------------------------


@pytest.fixture
def parent(tunduk: RunningSimulator, cast: Cast) -> User:
    """A parent who signed in while Tunduk was healthy; no child linked yet."""
    user = applicant_for_pin(pin=cast.mother["pin"], actor=SYSTEM)
    tunduk.app.stats_reset()
    return user


def certificate(child: dict[str, Any]) -> dict[str, Any]:
    act = child["birthAct"]
    return {
        "pin": child["pin"],
        "birth_certificate": {
            "series": act["certificateSeries"],
            "number": act["certificateNumber"],
        },
    }


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_api_child_link_during_a_fault_writes_nothing_and_works_after(
    client: Client, campaign, tunduk: RunningSimulator, cast: Cast, parent: User, fault: str
) -> None:
    api = Api(client, token_issue(user=parent, actor=SYSTEM))
    before = rows()
    tunduk.app.faults_update(FAULTS[fault])
    unavailable(api.post("/me/children", certificate(cast.twins[0])))
    unavailable(api.get("/me/children"))  # no links yet: asks the registry for the family
    assert rows() == before

    recover(tunduk)
    linked = api.post("/me/children", certificate(cast.twins[0]))
    assert linked.status_code == 201, linked.content
    listed = api.get("/me/children", refresh="true")
    assert listed.status_code == 200, listed.content
    assert {c["pin"] for c in listed.json()} == {t["pin"] for t in cast.twins}


def test_web_children_page_during_an_outage_explains_and_works_after(
    client: Client, campaign, tunduk: RunningSimulator, cast: Cast, parent: User
) -> None:
    client.force_login(parent)
    before = rows()
    tunduk.app.faults_update({"outage": True})
    page = client.get("/children/")
    assert page.status_code == 200 and title("ky") in page.content.decode()
    twin = cast.twins[0]
    form = {
        "pin": twin["pin"],
        "series": twin["birthAct"]["certificateSeries"],
        "number": twin["birthAct"]["certificateNumber"],
    }
    page = client.post("/children/", form)
    assert page.status_code == 200 and title("ky") in page.content.decode()
    assert rows() == before

    recover(tunduk)
    page = client.get("/children/")
    assert page.status_code == 200 and title("ky") not in page.content.decode()
    assert ChildLink.objects.filter(applicant=parent.person).count() == len(cast.twins)
