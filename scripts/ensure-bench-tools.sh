#!/usr/bin/env bash
# The load-test tools the flash-crowd benchmark and its quick test use: wrk and nginx from
# Debian (pgbench comes with PostgreSQL, see ensure-postgres.sh). nginx also runs the
# production-layout test (tests/deploy/test_nginx_static.py, deploy/nginx/kattoo.conf); valgrind
# counts the instructions of the app's SQL (python -m bench.instructions, ADR 0064).
# Installs what is missing when run as root; otherwise says what is missing (the tests then
# skip with that reason).
set -euo pipefail

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ]; then
  echo "ensure-bench-tools: installing ${missing[*]} from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "ensure-bench-tools: missing ${missing[*]} (install as root: apt-get install ${missing[*]})" >&2
fi
