#!/bin/sh
# Prints deploy/nginx/kattoo.conf with its @PLACEHOLDERS@ filled from the environment
# (defaults as listed at the top of that file). docs/deployment.md and the production-layout
# test (tests/deploy/test_nginx_static.py) both use this script, so what is tested is what is
# installed:
#
#   NGINX_SERVER_NAME=kattoo.example.kg deploy/nginx/render.sh > /etc/nginx/sites-available/kattoo.conf
set -eu

: "${NGINX_SERVER_NAME:?set NGINX_SERVER_NAME to the public host name, e.g. kattoo.example.kg}"
NGINX_HTTP_LISTEN="${NGINX_HTTP_LISTEN:-80}"
NGINX_HTTPS_LISTEN="${NGINX_HTTPS_LISTEN:-443}"
NGINX_TLS_CERT="${NGINX_TLS_CERT:-/etc/letsencrypt/live/$NGINX_SERVER_NAME/fullchain.pem}"
NGINX_TLS_KEY="${NGINX_TLS_KEY:-/etc/letsencrypt/live/$NGINX_SERVER_NAME/privkey.pem}"
NGINX_LOG_DIR="${NGINX_LOG_DIR:-/var/log/nginx}"
KATTOO_UPSTREAM="${KATTOO_UPSTREAM:-127.0.0.1:8001,127.0.0.1:8002}"
KATTOO_UPSTREAM_MAX_CONNS="${KATTOO_UPSTREAM_MAX_CONNS:-32}"
KATTOO_STATIC_ROOT="${KATTOO_STATIC_ROOT:-/var/lib/kattoo/static}"

case "$KATTOO_UPSTREAM_MAX_CONNS" in
  '' | *[!0-9]*)
    echo "render.sh: KATTOO_UPSTREAM_MAX_CONNS must be a whole number (0 = no limit)" >&2
    exit 2
    ;;
esac

for value in "$NGINX_SERVER_NAME" "$NGINX_HTTP_LISTEN" "$NGINX_HTTPS_LISTEN" "$NGINX_TLS_CERT" \
  "$NGINX_TLS_KEY" "$NGINX_LOG_DIR" "$KATTOO_UPSTREAM" "$KATTOO_STATIC_ROOT" \
  "$KATTOO_UPSTREAM_MAX_CONNS"; do
  case "$value" in
    *'|'* | *';'* | *'{'* | *'}'* | *' '*)
      echo "render.sh: '$value' may not contain | ; { } or spaces" >&2
      exit 2
      ;;
  esac
done

# One server line per app process (kattoo-web@PORT, one per core; on several nodes, every
# node's: KATTOO_UPSTREAM=10.0.1.11:8001,10.0.1.11:8002,10.0.1.12:8001,…), each with its own
# max_conns (ADR 0058).
case ",$KATTOO_UPSTREAM," in
  *,,*)
    echo "render.sh: KATTOO_UPSTREAM is host:port, or several separated by commas" >&2
    exit 2
    ;;
esac

out=$(awk -v nodes="$KATTOO_UPSTREAM" '
  /^[[:space:]]*#/ || !/@UPSTREAM@/ { print; next }
  { n = split(nodes, node, ","); for (i = 1; i <= n; i++) { line = $0; gsub(/@UPSTREAM@/, node[i], line); print line } }
' "$(dirname "$0")/kattoo.conf" | sed \
  -e "/^[[:space:]]*#/!s|@SERVER_NAME@|$NGINX_SERVER_NAME|g" \
  -e "/^[[:space:]]*#/!s|@HTTP_LISTEN@|$NGINX_HTTP_LISTEN|g" \
  -e "/^[[:space:]]*#/!s|@HTTPS_LISTEN@|$NGINX_HTTPS_LISTEN|g" \
  -e "/^[[:space:]]*#/!s|@TLS_CERT@|$NGINX_TLS_CERT|g" \
  -e "/^[[:space:]]*#/!s|@TLS_KEY@|$NGINX_TLS_KEY|g" \
  -e "/^[[:space:]]*#/!s|@LOG_DIR@|$NGINX_LOG_DIR|g" \
  -e "/^[[:space:]]*#/!s|@UPSTREAM_MAX_CONNS@|$KATTOO_UPSTREAM_MAX_CONNS|g" \
  -e "/^[[:space:]]*#/!s|@STATIC_ROOT@|${KATTOO_STATIC_ROOT%/}|g")

if printf '%s\n' "$out" | grep -v '^[[:space:]]*#' | grep -q '@[A-Z_]*@'; then
  echo "render.sh: a placeholder was left unfilled" >&2
  exit 2
fi
printf '%s\n' "$out"
