"""ADR 0022: production settings refuse to start with the file "phone" or the registry fake,
unless a test rig says KATTOO_ALLOW_FAKE_BACKENDS=1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = "kattoo.integrations.sms.gateway.HttpSmsGateway"
XROAD = "kattoo.integrations.registry.xroad.XRoadRegistry"
FILE = "kattoo.notifications.backends.FileBackend"


def start(**extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DJANGO_SETTINGS_MODULE",
            "KATTOO_ALLOW_FAKE_BACKENDS",
            "KATTOO_NOTIFICATIONS_BACKEND",
            "KATTOO_REGISTRY_BACKEND",
        }
    }
    env |= {
        "DJANGO_SECRET_KEY": "x" * 50,
        "DATABASE_URL": "postgres://u:p@127.0.0.1:1/none",
        "KATTOO_FIELD_KEYS": "a-production-key",
        **extra,
    }
    return subprocess.run(
        [sys.executable, "-c", "import config.settings.production"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("backends", "named"),
    [
        ({}, "FileBackend"),  # the defaults: the file phone and the registry fake
        ({"KATTOO_REGISTRY_BACKEND": XROAD}, "FileBackend"),
        ({"KATTOO_NOTIFICATIONS_BACKEND": GATEWAY}, "FakeRegistry"),
        (
            {"KATTOO_NOTIFICATIONS_BACKEND": FILE, "KATTOO_REGISTRY_BACKEND": XROAD},
            "FileBackend",
        ),
    ],
)
def test_production_refuses_a_fake_backend(backends: dict[str, str], named: str) -> None:
    done = start(**backends)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and named in done.stderr
    assert "KATTOO_ALLOW_FAKE_BACKENDS" in done.stderr


def test_production_starts_with_the_gateway_and_x_road() -> None:
    done = start(KATTOO_NOTIFICATIONS_BACKEND=GATEWAY, KATTOO_REGISTRY_BACKEND=XROAD)
    assert done.returncode == 0, done.stderr


def test_a_test_rig_may_allow_the_fakes_explicitly() -> None:
    assert start(KATTOO_ALLOW_FAKE_BACKENDS="1").returncode == 0
    assert start(KATTOO_ALLOW_FAKE_BACKENDS="yes").returncode != 0  # only "1" allows
