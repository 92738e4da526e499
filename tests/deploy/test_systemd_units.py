"""deploy/systemd: the process units an operator installs (ADR 0019) are valid for systemd,
run as the kattoo user with the environment file and hardening, and run commands that exist."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
SERVICES = ["kattoo-web@", "kattoo-worker", "kattoo-drain", "kattoo-minute", "kattoo-daily"]
TIMERS = ["kattoo-minute", "kattoo-daily"]
TARGETS = ["kattoo-web"]
VENV = "/opt/kattoo/venv/bin/"
SH = shutil.which("sh") or "/bin/sh"


def unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((UNITS / name).read_text())
    return parser


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    """`systemd-analyze verify`, with the virtualenv's path pointing at this one (it checks
    that every command exists)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    here = str(Path(sys.executable).parent) + "/"
    for path in UNITS.iterdir():
        (tmp_path / path.name).write_text(path.read_text().replace(VENV, here))
    assert len(list(tmp_path.iterdir())) == len(SERVICES) + len(TIMERS) + len(TARGETS)
    # A template is verified as an instance of it: the web process on port 8001.
    (tmp_path / "kattoo-web@.service").rename(tmp_path / "kattoo-web@8001.service")
    files = sorted(str(p) for p in tmp_path.iterdir())
    done = subprocess.run(  # noqa: S603 (systemd's own tool on our files)
        [analyze, "verify", *files], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.strip() == "", done.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_services_run_as_kattoo_with_the_environment_and_hardening(name: str) -> None:
    service = unit(f"{name}.service")["Service"]
    assert service["User"] == service["Group"] == "kattoo"
    assert service["EnvironmentFile"] == "/etc/kattoo/kattoo.env"
    assert service["WorkingDirectory"] == "/opt/kattoo/app"
    assert service["NoNewPrivileges"] == "true"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/kattoo"
    assert service["PrivateTmp"] == "true"


def commands_run(name: str) -> list[str]:
    """The manage.py commands a service runs."""
    start = unit(f"{name}.service")["Service"]["ExecStart"]
    found = re.findall(r"manage\.py (\w+)", start)
    loop = re.search(r"for job in ([\w ]+);", start)
    return found if not loop else loop.group(1).split()


def test_the_jobs_are_commands_that_exist() -> None:
    known = get_commands()
    assert commands_run("kattoo-worker") == ["db_worker"]
    assert commands_run("kattoo-drain") == ["notifications_drain"]
    minute = ["opening_hold", "audit_seal", "notifications_requeue", "waitlist_sweep"]
    assert commands_run("kattoo-minute") == minute
    assert commands_run("kattoo-daily") == [
        "purge_personal_data",
        "integrity_check",
        "drafts_facts_store",
    ]
    for name in ("kattoo-worker", "kattoo-drain", "kattoo-minute", "kattoo-daily"):
        for command in commands_run(name):
            assert command in known, command


def test_the_web_unit_runs_the_wsgi_application_under_granian() -> None:
    service = unit("kattoo-web@.service")["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0] == VENV + "granian"
    assert argv[-1] == "config.wsgi:application"
    assert argv[1:3] == ["--interface", "wsgi"]
    # One process on the instance's port, on the command line so that the environment file
    # cannot change it (ADR 0058): nginx's max_conns per server line is that process's limit.
    assert argv[argv.index("--port") + 1] == "%i"
    assert argv[argv.index("--workers") + 1] == "1"
    assert service["RuntimeDirectory"] == "kattoo-web-%i"
    assert "PROMETHEUS_MULTIPROC_DIR=/run/kattoo-web-%i" in service["Environment"]
    # The defaults the environment template shows are the unit's own.
    template = (ROOT / "deploy/kattoo.env.example").read_text()
    text = (UNITS / "kattoo-web@.service").read_text()
    defaults = re.search(r"^Environment=(GRANIAN_.*)$", text, re.MULTILINE)
    assert defaults is not None
    for default in defaults.group(1).split():
        assert f"# {default}\n" in template, default


def test_every_web_instance_belongs_to_the_web_target() -> None:
    """`systemctl enable kattoo-web@PORT` hangs the instance under kattoo-web.target, and
    restarting the target restarts every instance."""
    web = unit("kattoo-web@.service")
    assert web["Install"]["WantedBy"] == "kattoo-web.target"
    assert web["Unit"]["PartOf"] == "kattoo-web.target"
    assert unit("kattoo-web.target")["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.parametrize("name", TIMERS)
def test_timers_start_their_service(name: str) -> None:
    timer = unit(f"{name}.timer")
    assert timer["Timer"]["Unit"] == f"{name}.service"
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert "Type=oneshot" in (UNITS / f"{name}.service").read_text()


@pytest.mark.parametrize("script", ["deploy/bin/kattoo-manage", "deploy/nginx/render.sh"])
def test_scripts_are_valid_shell(script: str) -> None:
    done = subprocess.run(  # noqa: S603 (the system's sh on our script)
        [SH, "-n", str(ROOT / script)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "NGINX_SERVER_NAME"),
        ({"NGINX_SERVER_NAME": "a.kg", "KATTOO_STATIC_ROOT": "/x; root /"}, "may not contain"),
    ],
)
def test_nginx_render_refuses_missing_or_unsafe_values(env: dict[str, str], message: str) -> None:
    done = subprocess.run(  # noqa: S603 (the system's sh on our script)
        [SH, str(ROOT / "deploy/nginx/render.sh")],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0 and message in done.stderr and done.stdout == ""


def test_nginx_render_fills_every_placeholder_with_the_documented_defaults() -> None:
    done = subprocess.run(  # noqa: S603 (the system's sh on our script)
        [SH, str(ROOT / "deploy/nginx/render.sh")],
        env={"PATH": "/usr/bin:/bin", "NGINX_SERVER_NAME": "kattoo.example.kg"},
        capture_output=True,
        text=True,
        check=True,
    )
    body = [ln for ln in done.stdout.splitlines() if not ln.lstrip().startswith("#")]
    assert not any("@" in ln for ln in body)
    text = "\n".join(body)
    assert "listen 443 ssl http2;" in text and "listen 80;" in text
    # Two processes, each on its port (kattoo-web@8001, @8002), each line with the 32 requests
    # that process admits (KATTOO_ADMISSION_LIMIT, twice KATTOO_DB_POOL_MAX by default,
    # ADR 0049, 0053, 0055, 0058, 0065).
    assert "server 127.0.0.1:8001 max_fails=0 max_conns=32;" in text
    assert "server 127.0.0.1:8002 max_fails=0 max_conns=32;" in text
    assert "alias /var/lib/kattoo/static/;" in text
    assert "alias /var/lib/kattoo/static/busy/;" in text
    assert "ssl_certificate /etc/letsencrypt/live/kattoo.example.kg/fullchain.pem;" in text


@pytest.mark.parametrize("value", ["sixteen", "-1", "16 "])
def test_nginx_render_refuses_a_max_conns_that_is_not_a_number(value: str) -> None:
    done = subprocess.run(  # noqa: S603 (the system's sh on our script)
        [SH, str(ROOT / "deploy/nginx/render.sh")],
        env={
            "PATH": "/usr/bin:/bin",
            "NGINX_SERVER_NAME": "kattoo.example.kg",
            "KATTOO_UPSTREAM_MAX_CONNS": value,
        },
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "KATTOO_UPSTREAM_MAX_CONNS" in done.stderr
    assert done.stdout == ""


def test_nginx_render_gives_each_app_node_its_server_line() -> None:
    done = subprocess.run(  # noqa: S603 (the system's sh on our script)
        [SH, str(ROOT / "deploy/nginx/render.sh")],
        env={
            "PATH": "/usr/bin:/bin",
            "NGINX_SERVER_NAME": "kattoo.example.kg",
            "KATTOO_UPSTREAM": "10.0.1.11:8000,10.0.1.12:8000",
            "KATTOO_UPSTREAM_MAX_CONNS": "24",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [ln.strip() for ln in done.stdout.splitlines() if re.match(r"\s*server \d", ln)]
    assert lines == [
        "server 10.0.1.11:8000 max_fails=0 max_conns=24;",
        "server 10.0.1.12:8000 max_fails=0 max_conns=24;",
        # the probes' upstream: the same nodes, never refused
        "server 10.0.1.11:8000 max_fails=0;",
        "server 10.0.1.12:8000 max_fails=0;",
    ]


@pytest.mark.parametrize("value", ["a:1,,b:2", ",a:1", "a:1,"])
def test_nginx_render_refuses_an_empty_node_in_the_list(value: str) -> None:
    done = subprocess.run(  # noqa: S603 (the system's sh on our script)
        [SH, str(ROOT / "deploy/nginx/render.sh")],
        env={"PATH": "/usr/bin:/bin", "NGINX_SERVER_NAME": "k.kg", "KATTOO_UPSTREAM": value},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "KATTOO_UPSTREAM" in done.stderr
    assert done.stdout == ""
