"""nginx as a deployment runs it, started by the tests and the bench in front of an application
server:
exactly ``deploy/nginx/kattoo.conf`` as ``deploy/nginx/render.sh`` fills it (docs/deployment.md),
inside the ``http { }`` block Debian's ``/etc/nginx/nginx.conf`` would give it, with a throwaway
certificate, in a directory of the test's own (no root, no systemd, the machine's nginx never
touched).

    with nginx_front(work, upstream="127.0.0.1:8000") as front:
        httpx.get(f"{front.https}/healthz", verify=False)

Used by the production-layout tests (tests/deploy/), the security proof behind a load
balancer (tests/security/production/) and the overload phase of ``make bench``
(bench/flash_crowd.py), which measures the 503 nginx answers beyond ``max_conns``."""

# ruff: noqa: S603, S607 - fixed programs (nginx, sh) with arguments built here
from __future__ import annotations

import datetime
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.pgcluster import free_port

ROOT = Path(__file__).resolve().parents[1]
RENDER = ROOT / "deploy" / "nginx" / "render.sh"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for ``localhost`` (the test trusts it by not verifying)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path, **kw: Any) -> None:
    """Until ``url`` answers 200 (``process`` serves it; its ``log`` explains a failure)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(url, timeout=2, **kw).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer:\n{log.read_text()[-3000:]}")


def _nofile(wanted: int) -> int:
    """``wanted`` open files for a worker, within what this process may raise itself to."""
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(1024, wanted if hard == resource.RLIM_INFINITY else min(wanted, hard))


def busy_static_root(work: Path) -> Path:
    """``work``/static with what nginx's busy answer reads of collectstatic's output
    (``busy/<language>.json|html``, ADR 0035), for a front without a full collectstatic."""
    from kattoo.web.admission import BUSY_PAGES_DIR

    static_root = work / "static"
    shutil.rmtree(static_root, ignore_errors=True)
    shutil.copytree(BUSY_PAGES_DIR, static_root / "busy")
    return static_root


def wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@dataclass
class Front:
    https: str  # nginx, TLS: https://127.0.0.1:PORT (server_name localhost is the only site)
    http: str  # nginx, plain HTTP (redirects to HTTPS)
    logs: Path  # kattoo.access.log, kattoo.error.log, nginx-error.log


@contextmanager
def nginx_front(
    work: Path,
    *,
    upstream: str,
    static_root: Path | None = None,
    logs: Path | None = None,
    max_conns: int | None = None,
    ready: str | None = "/healthz",
    workers: int = 1,
    connections: int = 256,
) -> Iterator[Front]:
    """nginx with the rendered site in ``work``, proxying to ``upstream`` (host:port), once
    it answers ``ready`` over TLS (None: once it listens); stopped (SIGQUIT, graceful) on the
    way out. ``max_conns``: KATTOO_UPSTREAM_MAX_CONNS (render.sh's default when None);
    ``workers`` and ``connections``: nginx's worker processes and connections per worker
    (Debian's defaults are auto and 768; the bench's 1024 clients need more)."""
    nginx = nginx_binary()
    assert nginx is not None, "nginx is not installed (scripts/ensure-bench-tools.sh)"
    logs = logs or work / "logs"
    static_root = static_root or work / "static"
    for directory in (logs, static_root, work / "nginx-tmp"):
        directory.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed(work)
    http_port, https_port = free_port(), free_port()
    rendered = subprocess.run(
        ["sh", str(RENDER)],
        env={
            "PATH": os.environ["PATH"],
            "NGINX_SERVER_NAME": "localhost",
            "NGINX_HTTP_LISTEN": f"127.0.0.1:{http_port}",
            "NGINX_HTTPS_LISTEN": f"127.0.0.1:{https_port}",
            "NGINX_TLS_CERT": str(cert),
            "NGINX_TLS_KEY": str(key),
            "NGINX_LOG_DIR": str(logs),
            "KATTOO_UPSTREAM": upstream,
            "KATTOO_STATIC_ROOT": str(static_root),
            **({} if max_conns is None else {"KATTOO_UPSTREAM_MAX_CONNS": str(max_conns)}),
        },
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    (work / "kattoo.conf").write_text(rendered)
    # What Debian's /etc/nginx/nginx.conf provides around a site, in the test's own directory
    # (pid, temporary files, error log) so it runs without root or systemd; then what
    # docs/deployment.md has an operator run on that file (raise-limits.sh: the connections
    # and the open files).
    main = work / "nginx.conf"
    main.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"""daemon off;
worker_processes {workers};
pid {work}/nginx.pid;
error_log {logs}/nginx-error.log warn;
events {{
  worker_connections 768;
}}
http {{
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  sendfile on;
  client_body_temp_path {work}/nginx-tmp/body;
  proxy_temp_path {work}/nginx-tmp/proxy;
  fastcgi_temp_path {work}/nginx-tmp/fastcgi;
  uwsgi_temp_path {work}/nginx-tmp/uwsgi;
  scgi_temp_path {work}/nginx-tmp/scgi;
  include {work}/kattoo.conf;
}}
"""
    )
    subprocess.run(
        ["sh", str(ROOT / "deploy" / "nginx" / "raise-limits.sh"), str(main)],
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "NGINX_WORKER_CONNECTIONS": str(connections),
            "NGINX_WORKER_RLIMIT_NOFILE": str(_nofile(4 * connections)),
        },
        check=True,
        capture_output=True,
        text=True,
    )
    stderr = logs / "nginx-stderr.log"
    process = subprocess.Popen(
        [nginx, "-c", str(work / "nginx.conf"), "-p", str(work)],
        stdout=subprocess.DEVNULL,
        stderr=stderr.open("wb"),
        start_new_session=True,
    )
    try:
        https = f"https://127.0.0.1:{https_port}"
        if ready is not None:
            wait_for(f"{https}{ready}", process, stderr, verify=False)
        else:
            wait_listening(https_port, process, stderr)
        yield Front(https=https, http=f"http://127.0.0.1:{http_port}", logs=logs)
    finally:
        stop(process, signal.SIGQUIT)
