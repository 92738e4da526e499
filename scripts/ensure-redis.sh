#!/usr/bin/env bash
# redis-server for the Redis outage test (tests/reliability/test_redis_stop.py starts its own
# on a free port and kills it; the machine's Redis, if any, is never touched).
# Installs it when missing and run as root; otherwise says what is missing (the test then skips).
set -euo pipefail

command -v redis-server >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = "0" ]; then
  echo "ensure-redis: installing redis-server from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  # Debian starts a system Redis on 6379; the tests run their own and need none.
  systemctl disable --now redis-server >/dev/null 2>&1 || true
else
  echo "ensure-redis: missing redis-server (install as root: apt-get install redis-server)" >&2
fi
