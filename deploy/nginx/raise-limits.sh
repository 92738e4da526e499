#!/bin/sh
# Raises nginx's connection limits in its main configuration (Debian's /etc/nginx/nginx.conf,
# which the site file cannot change: these live outside `http { }`). docs/deployment.md, step 10.
#
# At the opening minute every parent's phone keeps a connection open (keepalive_timeout 65s in
# deploy/nginx/kattoo.conf) and every request passed to the application takes one more. Debian's
# default, 768 connections per worker, is used up within the first seconds; nginx then drops
# new connections ("worker_connections are not enough"). Each connection costs nginx some tens
# of kilobytes (TLS included): 16,384 per worker on a two-core node is about 1-2 GB at most.
#
#   deploy/nginx/raise-limits.sh                      # /etc/nginx/nginx.conf
#   deploy/nginx/raise-limits.sh /path/to/nginx.conf  # another file
#   NGINX_WORKER_CONNECTIONS=32768 deploy/nginx/raise-limits.sh
#
# It may be run again (it sets the values, it does not add them twice); `nginx -t` then
# `systemctl reload nginx` apply it. tests/deploy/test_nginx_limits.py runs it on Debian's file.
set -eu

conf="${1:-/etc/nginx/nginx.conf}"
whole() {
  case "$1" in
    '' | *[!0-9]*)
      echo "raise-limits.sh: NGINX_WORKER_CONNECTIONS and NGINX_WORKER_RLIMIT_NOFILE are whole numbers" >&2
      exit 2
      ;;
  esac
}
connections="${NGINX_WORKER_CONNECTIONS:-16384}"
whole "$connections"
# Open files per worker: its connections, the upstream's and the files it serves.
nofile="${NGINX_WORKER_RLIMIT_NOFILE:-$((connections * 4))}"
whole "$nofile"
if ! grep -Eq '^[[:space:]]*worker_connections[[:space:]]+[0-9]+;' "$conf"; then
  echo "raise-limits.sh: no worker_connections line in $conf (not Debian's nginx.conf?)" >&2
  exit 2
fi

sed -i -E "s/^([[:space:]]*)worker_connections[[:space:]]+[0-9]+;/\1worker_connections $connections;/" "$conf"
if grep -Eq '^[[:space:]]*worker_rlimit_nofile[[:space:]]' "$conf"; then
  sed -i -E "s/^([[:space:]]*)worker_rlimit_nofile[[:space:]]+[0-9]+;/\1worker_rlimit_nofile $nofile;/" "$conf"
else
  # Main context: before the events block.
  sed -i -E "0,/^[[:space:]]*events[[:space:]]*\{/s//worker_rlimit_nofile $nofile;\n&/" "$conf"
fi
echo "$conf: worker_connections $connections, worker_rlimit_nofile $nofile"
