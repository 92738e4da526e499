"""The simulator over real HTTP: every service, header, error form and admin operation of
docs/tunduk-protocol.md."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any
from wsgiref.util import setup_testing_defaults

import httpx
import pytest

from kattoo.tunduk_sim.app import make_app, request_hash
from kattoo.tunduk_sim.server import RunningSimulator

from ..factories import registry_person
from .support import CLIENT_ID, Cast, SimulatorTime

ZAGS = "/r1/central-server/GOV/70000005/zags-service/zagsDataByPin"
PASSPORT = "/r1/central-server/GOV/70000005/passport-service/passportDataByPSN"
ADDRESS = "/r1/central-server/GOV/70000005/asb-service/asbAddress"
BIRTH_ACT = "/r1/central-server/GOV/70000005/zags-service/birthActByPin"
FAMILY = "/r1/central-server/GOV/70000050/sanaripaymak-service/family-members"
CONTACTS = "/r1/central-server/GOV/70000005/passport-service/contactsByPin"
ALL_SERVICES = [ZAGS, PASSPORT, ADDRESS, BIRTH_ACT, FAMILY, CONTACTS]
UNKNOWN_PIN = "22310199099999"


@pytest.fixture
def http(simulator: RunningSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=simulator.url, headers={"X-Road-Client": CLIENT_ID}, trust_env=False, timeout=5
    ) as client:
        yield client


def get(http: httpx.Client, path: str, **headers: str) -> httpx.Response:
    return http.get(path, headers=headers)


# -- services -------------------------------------------------------------------------------


def test_person_answers_every_field_with_nulls_for_absent_ones(http, cast: Cast) -> None:
    answer = get(http, f"{ZAGS}/{cast.mother['pin']}")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert answer.json() == {
        "pin": cast.mother["pin"],
        "pinBlocked": False,
        "surname": "Асанова",
        "name": "Айгүл",
        "patronymic": "Бакыт кызы",
        "gender": "F",
        "dateOfBirth": "1990-02-03",
        "deathDate": None,
        "citizenship": "KG",
        "nationality": "кыргыз",
    }
    deceased = get(http, f"{ZAGS}/{cast.deceased['pin']}").json()
    assert deceased["deathDate"] == "2021-02-02" and deceased["pinBlocked"] is True


def test_passport_address_contacts_and_birth_act(http, cast: Cast) -> None:
    pin = cast.mother["pin"]
    passport = get(http, f"{PASSPORT}/{pin}").json()
    assert passport == {
        **cast.mother["passport"],
        "voidStatus": False,
        "gender": "F",
        "dateOfBirth": "1990-02-03",
    }
    address = get(http, f"{ADDRESS}/{pin}").json()
    assert address["streetId"] == "ST-SIM-01" and address["flat"] == "5"
    assert address["houseId"] is None  # absent in the population: null on the wire
    assert get(http, f"{CONTACTS}/{pin}").json() == {"phone": "+996700123456", "email": ""}
    twin = cast.twins[0]
    act = get(http, f"{BIRTH_ACT}/{twin['pin']}").json()
    assert act == {
        **twin["birthAct"],
        "childPin": twin["pin"],
    }
    assert act["motherPin"] == pin and act["fatherPin"] == cast.father["pin"]


def test_absent_documents_are_null_and_a_missing_birth_act_is_not_found(http, cast) -> None:
    pin = cast.undocumented["pin"]
    assert get(http, f"{PASSPORT}/{pin}").json() is None
    assert get(http, f"{ADDRESS}/{pin}").json() is None
    assert get(http, f"{CONTACTS}/{pin}").json() == {"phone": None, "email": None}
    missing = get(http, f"{BIRTH_ACT}/{pin}")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    assert "X-Road-Error" not in missing.headers


def test_family_members_lists_children_then_wards(http, cast: Cast) -> None:
    members = get(http, f"{FAMILY}/{cast.mother['pin']}").json()
    assert members == [
        {
            "pin": t["pin"],
            "relation": "child",
            "surname": t["surname"],
            "name": t["name"],
            "dateOfBirth": t["dateOfBirth"],
        }
        for t in cast.twins
    ]
    assert [m["relation"] for m in get(http, f"{FAMILY}/{cast.guardian['pin']}").json()] == ["ward"]
    assert get(http, f"{FAMILY}/{cast.undocumented['pin']}").json() == []


def test_family_members_of_an_unknown_pin_is_204_without_a_body(http) -> None:
    answer = get(http, f"{FAMILY}/{UNKNOWN_PIN}")
    assert answer.status_code == 204 and answer.content == b""
    assert "X-Road-Error" not in answer.headers


@pytest.mark.parametrize("path", [p for p in ALL_SERVICES if p != FAMILY])
def test_unknown_pin_is_the_providers_404(http, path: str) -> None:
    answer = get(http, f"{path}/{UNKNOWN_PIN}")
    assert answer.status_code == 404
    assert answer.json()["code"] == "NOT_FOUND" and answer.json()["message"]
    assert "X-Road-Error" not in answer.headers


@pytest.mark.parametrize("path", ALL_SERVICES)
@pytest.mark.parametrize("pin", ["123", "32310199070001", "22313199070001", "2231019907000x"])
def test_malformed_pin_is_the_providers_400(http, path: str, pin: str) -> None:
    answer = get(http, f"{path}/{pin}")
    assert answer.status_code == 400 and answer.json()["code"] == "INVALID_PIN"
    assert "X-Road-Error" not in answer.headers


# -- headers --------------------------------------------------------------------------------


def test_response_headers_echo_the_id_and_identify_the_exchange(http, cast) -> None:
    xroad_id = str(uuid.uuid4())
    path = f"{ZAGS}/{cast.mother['pin']}"
    first = get(http, path, **{"X-Road-Id": xroad_id, "X-Road-UserId": "KG" + "2" * 13})
    second = get(http, path, **{"X-Road-Id": xroad_id})
    assert first.headers["X-Road-Id"] == xroad_id
    assert uuid.UUID(first.headers["X-Road-Request-Id"])
    assert first.headers["X-Road-Request-Id"] != second.headers["X-Road-Request-Id"]
    digest = hashlib.sha512(f"GET\n{path}\n{xroad_id}".encode()).digest()
    assert first.headers["X-Road-Request-Hash"] == base64.b64encode(digest).decode()
    assert first.headers["X-Road-Request-Hash"] == request_hash("GET", path, xroad_id)


def test_without_an_id_the_security_server_gives_one(http, cast) -> None:
    answer = get(http, f"{ZAGS}/{cast.mother['pin']}")
    assert uuid.UUID(answer.headers["X-Road-Id"])


@pytest.mark.parametrize(
    ("path", "status"), [(f"{ZAGS}/{UNKNOWN_PIN}", 404), (f"{FAMILY}/{UNKNOWN_PIN}", 204)]
)
def test_errors_and_empty_answers_carry_the_x_road_headers_too(http, path, status) -> None:
    answer = get(http, path, **{"X-Road-Id": "case-42"})
    assert answer.status_code == status
    assert answer.headers["X-Road-Id"] == "case-42"
    assert answer.headers["X-Road-Request-Hash"] == request_hash("GET", path, "case-42")
    assert answer.headers["X-Road-Request-Id"]


# -- X-Road's own errors --------------------------------------------------------------------


def assert_xroad_error(answer: httpx.Response, status: int, error_type: str) -> None:
    assert answer.status_code == status
    assert answer.headers["X-Road-Error"] == error_type
    body = answer.json()
    assert body["type"] == error_type and body["message"]
    assert uuid.UUID(body["detail"])
    assert answer.headers["X-Road-Id"] and answer.headers["X-Road-Request-Hash"]


@pytest.mark.parametrize("client_id", [None, "", "kattoo", "other-instance/GOV/70000001/kattoo"])
def test_missing_or_malformed_client_header(simulator, cast, client_id: str | None) -> None:
    headers = {} if client_id is None else {"X-Road-Client": client_id}
    with httpx.Client(base_url=simulator.url, trust_env=False) as bare:
        answer = bare.get(f"{ZAGS}/{cast.mother['pin']}", headers=headers)
    assert_xroad_error(answer, 400, "Client.BadRequest.MissingHeader")


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/r1/central-server/GOV/70000005/zags-service/noSuchService/22310199070001",
        "/r1/other-instance/GOV/70000005/zags-service/zagsDataByPin/22310199070001",
        "/r1/central-server/GOV/70000099/zags-service/zagsDataByPin/22310199070001",
        f"{ZAGS}",
        f"{ZAGS}/",
        f"{ZAGS}/22310199070001/extra",
    ],
)
def test_paths_that_address_no_service(http, path: str) -> None:
    assert_xroad_error(get(http, path), 400, "Client.BadRequest.InvalidPath")


def test_services_are_read_only(http, cast) -> None:
    answer = http.post(f"{ZAGS}/{cast.mother['pin']}", json={})
    assert_xroad_error(answer, 400, "Client.BadRequest.InvalidPath")


# -- faults ---------------------------------------------------------------------------------


def put_faults(http: httpx.Client, **faults: Any) -> dict[str, Any]:
    answer = http.put("/_admin/faults", json=faults)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_outage_answers_every_request_with_a_500(http, cast) -> None:
    put_faults(http, outage=True)
    for path in (f"{ZAGS}/{cast.mother['pin']}", f"{FAMILY}/{UNKNOWN_PIN}", "/nowhere"):
        assert_xroad_error(get(http, path), 500, "Server.ClientProxy.NetworkError")
    assert http.get("/_admin/health").json()["status"] == "ok"  # admin is not affected


def test_error_rate_answers_an_exact_share_with_the_error_type(http, cast) -> None:
    put_faults(http, error_rate=0.5, error_type="Server.ServerProxy.ServiceFailed")
    statuses = [get(http, f"{ZAGS}/{cast.mother['pin']}").status_code for _ in range(6)]
    assert statuses == [500, 200, 500, 200, 500, 200]
    put_faults(http, error_rate=1.0, error_type="Client.InternalError")
    assert_xroad_error(get(http, f"{ZAGS}/{cast.mother['pin']}"), 400, "Client.InternalError")


def test_provider_errors_are_503_without_an_x_road_error(http, cast) -> None:
    put_faults(http, provider_error_rate=1.0)
    answer = get(http, f"{PASSPORT}/{cast.mother['pin']}")
    assert answer.status_code == 503 and answer.json()["code"] == "SERVICE_UNAVAILABLE"
    assert "X-Road-Error" not in answer.headers and answer.headers["X-Road-Id"]


def test_faults_can_be_limited_to_some_services(http, cast) -> None:
    put_faults(http, outage=True, services=["asbAddress"])
    assert get(http, f"{ADDRESS}/{cast.mother['pin']}").status_code == 500
    assert get(http, f"{ZAGS}/{cast.mother['pin']}").status_code == 200
    assert get(http, "/nowhere").status_code == 400  # no service: only all-service faults hit


def test_latency_delays_the_answer(http, cast, simulator_time: SimulatorTime) -> None:
    put_faults(http, latency_ms=120, jitter_ms=30)
    assert get(http, f"{ZAGS}/{cast.mother['pin']}").status_code == 200
    [delay] = simulator_time.sleeps
    assert 0.12 <= delay <= 0.15


def test_hang_outlasts_a_client_timeout(simulator, cast) -> None:
    simulator.app.faults_update({"hang": True})
    with (
        httpx.Client(base_url=simulator.url, trust_env=False, timeout=0.2) as impatient,
        pytest.raises(httpx.ReadTimeout),
    ):
        impatient.get(f"{ZAGS}/{cast.mother['pin']}", headers={"X-Road-Client": CLIENT_ID})


def test_slow_requests_are_served_in_parallel(
    simulator, cast, simulator_time: SimulatorTime
) -> None:
    """Threads per connection: one slow answer does not hold up the others. Each slow
    request waits inside the simulator until all ten are in flight at once: served one
    after the other, the barrier would break and the answers would be errors."""
    simulator_time.barrier = threading.Barrier(10, timeout=10)
    simulator.app.faults_update({"latency_ms": 200})
    statuses: list[int] = []

    def ask() -> None:
        with httpx.Client(base_url=simulator.url, trust_env=False, timeout=30) as client:
            answer = client.get(
                f"{ZAGS}/{cast.mother['pin']}", headers={"X-Road-Client": CLIENT_ID}
            )
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=ask) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not simulator_time.barrier.broken
    assert statuses == [200] * 10
    assert simulator_time.sleeps == [0.2] * 10
    assert simulator.app.stats()["requests"] == 10


# -- the admin interface --------------------------------------------------------------------


def test_health_counts_the_people(http, cast) -> None:
    health = http.get("/_admin/health").json()
    assert health["status"] == "ok" and health["people"] >= len(cast.everyone)


def test_faults_are_read_merged_and_reset(http) -> None:
    defaults = http.get("/_admin/faults").json()
    assert defaults == {
        "latency_ms": 0,
        "jitter_ms": 0,
        "error_rate": 0.0,
        "error_type": "Server.ServerProxy.NetworkError",
        "provider_error_rate": 0.0,
        "outage": False,
        "hang": False,
        "services": None,
    }
    put_faults(http, latency_ms=5)
    merged = put_faults(http, error_rate=0.25, services=["zagsDataByPin", "family-members"])
    assert merged["latency_ms"] == 5 and merged["error_rate"] == 0.25
    assert merged["services"] == ["family-members", "zagsDataByPin"]
    assert http.get("/_admin/faults").json() == merged
    assert http.delete("/_admin/faults").json() == defaults


@pytest.mark.parametrize(
    "body",
    [
        {"latency": 5},
        {"latency_ms": -1},
        {"latency_ms": 1.5},
        {"error_rate": 2},
        {"error_rate": "half"},
        {"outage": "yes"},
        {"error_type": "Server.Whatever"},
        {"services": ["zagsDataByPin", "nope"]},
        {"services": "zagsDataByPin"},
        [],
    ],
)
def test_bad_fault_settings_are_refused_and_change_nothing(http, body: Any) -> None:
    before = http.get("/_admin/faults").json()
    answer = http.put("/_admin/faults", json=body)
    assert answer.status_code == 400 and answer.json()["error"]
    assert http.get("/_admin/faults").json() == before


def test_invalid_json_is_refused(http) -> None:
    answer = http.put("/_admin/faults", content=b"{not json")
    assert answer.status_code == 400


def test_stats_count_x_road_traffic_by_service_and_reset(http, cast) -> None:
    pin = cast.mother["pin"]
    get(http, f"{ZAGS}/{pin}")
    get(http, f"{ZAGS}/{UNKNOWN_PIN}")
    get(http, f"{FAMILY}/{pin}")
    get(http, "/nowhere")
    put_faults(http, provider_error_rate=1.0, services=["asbAddress"])
    get(http, f"{ADDRESS}/{pin}")
    http.get("/_admin/health")  # not counted
    stats = http.get("/_admin/stats").json()
    assert stats == {
        "requests": 5,
        "by_service": {"zagsDataByPin": 2, "family-members": 1, "asbAddress": 1},
        "errors": 2,  # the X-Road error for /nowhere and the provider's 503; a 404 is an answer
        "by_status": {"200": 2, "404": 1, "400": 1, "503": 1},
    }
    assert http.delete("/_admin/stats").json()["requests"] == 0
    assert http.get("/_admin/stats").json()["by_service"] == {}


def test_people_are_added_and_replaced_without_a_restart(http, cast) -> None:
    mother = registry_person(sex="F", born=dt.date(1992, 1, 1), surname="Жаңы")
    other = registry_person(sex="F", born=dt.date(1993, 1, 1))
    child = registry_person(sex="M", born=dt.date(2019, 5, 5), mother=mother["pin"])
    before = http.get("/_admin/health").json()["people"]
    added = http.post(
        "/_admin/people",
        json={"format": "kattoo-population/1", "people": [mother, other, child]},
    ).json()
    assert added == {"added": 3, "replaced": 0, "wards": 0, "people": before + 3}
    assert [m["pin"] for m in get(http, f"{FAMILY}/{mother['pin']}").json()] == [child["pin"]]

    child["birthAct"]["motherPin"] = other["pin"]  # a corrected birth act
    mother["surname"] = "Өзгөргөн"
    replaced = http.post("/_admin/people", json={"people": [mother, child]}).json()
    assert replaced["replaced"] == 2 and replaced["people"] == before + 3
    assert get(http, f"{ZAGS}/{mother['pin']}").json()["surname"] == "Өзгөргөн"
    assert get(http, f"{FAMILY}/{mother['pin']}").json() == []
    assert [m["pin"] for m in get(http, f"{FAMILY}/{other['pin']}").json()] == [child["pin"]]


@pytest.mark.parametrize(
    "body", [{"format": "kattoo-population/2", "people": []}, {"people": [{"name": "x"}]}, []]
)
def test_a_bad_population_document_is_refused(http, body: Any) -> None:
    answer = http.post("/_admin/people", json=body)
    assert answer.status_code == 400 and answer.json()["error"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/_admin/health", 405),
        ("POST", "/_admin/stats", 405),
        ("GET", "/_admin/people", 405),
        ("GET", "/_admin/nothing", 404),
    ],
)
def test_admin_answers_unknown_operations(http, method, path, status) -> None:
    answer = http.request(method, path)
    assert answer.status_code == status
    if status == 405:
        assert answer.headers["Allow"]


def test_a_request_answering_after_a_stats_reset_is_not_counted_in_the_new_stats(cast) -> None:
    """Tests reset the counters between cases while a hung request may still be answering."""
    app = make_app(cast.document, hang_seconds=0.2)
    app.faults_update({"hang": True})
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": f"{ZAGS}/{cast.mother['pin']}",
        "HTTP_X_ROAD_CLIENT": CLIENT_ID,
    }
    setup_testing_defaults(environ)
    hung = threading.Thread(target=app, args=(environ, lambda status, headers: None))
    hung.start()
    time.sleep(0.05)
    app.stats_reset()
    hung.join()
    assert app.stats() == {"requests": 0, "by_service": {}, "errors": 0, "by_status": {}}
