"""deploy/nginx/raise-limits.sh on Debian's own /etc/nginx/nginx.conf (docs/deployment.md, step
10): the opening minute's connections fit, the file stays valid for nginx, and running the
script again changes nothing."""

# ruff: noqa: S603, S607 - the system's sh and nginx on files of the test's own
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.front import ROOT, nginx_binary

SCRIPT = ROOT / "deploy" / "nginx" / "raise-limits.sh"
DEBIAN = Path("/etc/nginx/nginx.conf")

pytestmark = pytest.mark.skipif(
    nginx_binary() is None or not DEBIAN.is_file(),
    reason="Debian's nginx is not installed (scripts/ensure-bench-tools.sh)",
)


def raise_limits(conf: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(SCRIPT), str(conf)],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
    )


def directives(conf: Path, name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+(\S+);", conf.read_text(), flags=re.M)


def test_debians_nginx_conf_gets_the_opening_minutes_limits(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    shutil.copy(DEBIAN, conf)
    assert directives(conf, "worker_connections") == ["768"]  # Debian's default
    assert raise_limits(conf).returncode == 0
    once = conf.read_text()
    assert directives(conf, "worker_connections") == ["16384"]
    assert directives(conf, "worker_rlimit_nofile") == ["65536"]
    assert raise_limits(conf).returncode == 0
    assert conf.read_text() == once
    if os.geteuid() == 0:  # Debian's file names the www-data user and root-owned paths
        nginx = nginx_binary()
        assert nginx is not None
        checked = subprocess.run([nginx, "-t", "-c", str(conf)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr


def test_other_values_and_bad_ones(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    shutil.copy(DEBIAN, conf)
    done = raise_limits(conf, NGINX_WORKER_CONNECTIONS="4096")
    assert done.returncode == 0, done.stderr
    assert directives(conf, "worker_connections") == ["4096"]
    assert directives(conf, "worker_rlimit_nofile") == ["16384"]
    before = conf.read_text()
    bad = raise_limits(conf, NGINX_WORKER_CONNECTIONS="lots")
    assert bad.returncode == 2 and "whole numbers" in bad.stderr
    assert conf.read_text() == before
    not_nginx = tmp_path / "other.conf"
    not_nginx.write_text("http { }\n")
    assert raise_limits(not_nginx).returncode == 2
    assert not_nginx.read_text() == "http { }\n"
