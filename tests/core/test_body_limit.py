"""A body larger than its endpoint accepts is refused with 413 before anything reads it
(kattoo/core/body_limit.py): by its Content-Length in the middleware, and, sent chunked without
a length, by the WSGI wrapper once the limit was read. The body is a stream that counts what
was read from it: a refusal reads nothing (or, chunked, no more than the limit), so no upload
is parsed or spooled to disk."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, ClientHandler, encode_multipart
from django.utils import translation

from kattoo.accounts.services import applicant_for_pin, token_issue
from kattoo.core.body_limit import EXCEEDED, BodyLimit, body_limit
from kattoo.people.models import GuardianAct
from kattoo.people.services import applicant_children_sync

from ..conftest import SYSTEM, World
from ..factories import registry_person

TOO_LARGE = (
    "The request is larger than %(mb)d MB, the most this address accepts. Nothing was saved."
)
THIRTY_MB = 30 * 1024 * 1024

UPLOAD_PATHS = [
    "/api/v1/me/children/1/guardian-document",
    "/api/v1/applications/0b7e7c53-3a35-4b8e-9d3e-6b8d8f7f2a11/guardian-document",
    "/children/1/act/",
    "/api/v1/campaigns/2026-2027/catalog",
    "/staff/catalog/",
]


class Endless:
    """A request body of ``size`` bytes, made up on demand, that counts what was read."""

    def __init__(self, size: int, byte: bytes = b"x") -> None:
        self.size, self.byte, self.read_bytes = size, byte, 0

    def read(self, n: int = -1) -> bytes:
        left = self.size - self.read_bytes
        n = left if n is None or n < 0 else min(n, left)
        self.read_bytes += n
        return self.byte * n

    def readline(self, n: int = -1) -> bytes:
        return self.read(n)


@pytest.fixture(autouse=True)
def _temp_dir(settings, tmp_path: Path) -> Path:
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    return tmp_path


def test_limits_per_endpoint(settings) -> None:
    overhead = settings.KATTOO_BODY_OVERHEAD_BYTES
    assert body_limit("/children/7/act/") == settings.KATTOO_UPLOAD_MAX_BYTES + overhead
    assert body_limit("/staff/catalog/") == settings.KATTOO_CATALOG_UPLOAD_MAX_BYTES + overhead
    assert body_limit("/signin/") == body_limit("/api/v1/auth/code") == 1024 * 1024
    assert max(body_limit(path) for path in UPLOAD_PATHS) < THIRTY_MB


@pytest.mark.parametrize("path", [*UPLOAD_PATHS, "/signin/", "/api/v1/applications"])
def test_declared_length_over_the_limit_is_413_and_nothing_is_read(
    client: Client, path: str, _temp_dir: Path
) -> None:
    body = Endless(THIRTY_MB)
    response = client.generic(
        "POST",
        path,
        b"",
        content_type=MULTIPART_CONTENT,
        headers={"Accept-Language": "ru"},
        CONTENT_LENGTH=str(THIRTY_MB),
        **{"wsgi.input": body},
    )
    assert response.status_code == 413 and response["Cache-Control"] == "no-store"
    assert body.read_bytes == 0 and list(_temp_dir.iterdir()) == []
    text = response.content.decode()
    with translation.override("ru"):
        template = translation.gettext(TOO_LARGE)
    sentence = re.compile(re.escape(template).replace(re.escape("%(mb)d"), r"[0-9]+"))
    if path.startswith("/api/"):
        assert response["Content-Type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["code"] == "payload_too_large" and problem["status"] == 413
    else:
        assert response["Content-Type"].startswith("text/html")
        assert f'href="{path}"' in text
    assert sentence.search(text), (template, text[-600:])  # the limit, in the caller's language


def test_a_real_30_mb_file_is_refused_without_reaching_disk(
    client: Client, world: World, _temp_dir: Path
) -> None:
    response = client.post(
        "/children/1/act/",
        {"kind": "court", "file": SimpleUploadedFile("big.pdf", b"%PDF" + b"0" * THIRTY_MB)},
    )
    assert response.status_code == 413
    assert list(_temp_dir.iterdir()) == [] and not GuardianAct.objects.exists()


def wsgi(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> tuple[int, bytes]:
    answer: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer.append(status)

    body = b"".join(app(environ, start_response))
    return int(answer[0].split()[0]), body


def django_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """Django itself (the test client's handler: the test's transaction stays open)."""
    response = ClientHandler(enforce_csrf_checks=False)(environ)
    start_response(f"{response.status_code} -", list(response.items()))
    return [response.content]


def chunked_environ(path: str, stream: Any, **extra: str) -> dict[str, Any]:
    environ = Client()._base_environ(  # type: ignore[attr-defined]
        PATH_INFO=path,
        REQUEST_METHOD="POST",
        CONTENT_TYPE=MULTIPART_CONTENT,
        HTTP_TRANSFER_ENCODING="chunked",
        **extra,
    )
    environ["wsgi.input"] = stream
    environ.pop("CONTENT_LENGTH", None)
    return environ


@pytest.mark.parametrize("path", UPLOAD_PATHS)
def test_chunked_body_over_the_limit_stops_reading_at_the_limit(
    path: str, db, _temp_dir: Path
) -> None:
    body = Endless(THIRTY_MB)
    seen: dict[str, Any] = {}

    def inner(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.update(environ)
        return django_app(environ, start_response)

    status, content = wsgi(BodyLimit(inner), chunked_environ(path, body))
    assert status == 413 and seen[EXCEEDED] is True
    assert body.read_bytes == body_limit(path) + 1 < THIRTY_MB
    assert list(_temp_dir.iterdir()) == []
    assert b"payload_too_large" in content or "МБ".encode() in content or b"MB" in content


def test_chunked_upload_within_the_limit_still_works(world: World, at_stage1) -> None:
    child = registry_person(sex="M", born=dt.date(2019, 10, 10), street=world.home)
    rep = registry_person(sex="F", born=dt.date(1970, 1, 1), street=world.home)
    for person in (child, rep):
        world.registry.add_person(person)
    world.registry.add_ward(rep["pin"], child["pin"])
    user = applicant_for_pin(pin=rep["pin"], actor=SYSTEM)
    [link] = applicant_children_sync(applicant=user.person, actor=SYSTEM)
    token = token_issue(user=user, actor=SYSTEM)
    payload = encode_multipart(
        BOUNDARY,
        {"kind": "court", "number": "2-1/24", "file": SimpleUploadedFile("a.pdf", b"%PDF-1.4 x")},
    )
    environ = chunked_environ(
        f"/api/v1/me/children/{link.child_id}/guardian-document",
        _Chunks(payload),
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    status, content = wsgi(BodyLimit(django_app), environ)
    assert status == 201, content
    assert GuardianAct.objects.get().number == "2-1/24"


class _Chunks:
    """A chunked body as a server hands it over: pieces of any size, then b""."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, n: int = -1) -> bytes:
        piece, self.data = (self.data, b"") if n < 0 else (self.data[:n], self.data[n:])
        return piece


def test_the_flag_alone_is_refused_by_the_middleware(client: Client) -> None:
    response = client.post("/api/v1/auth/code", {}, **{EXCEEDED: True})
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
