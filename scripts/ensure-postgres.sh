#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 and that the role the tests use
# exists. Starts the local cluster, or installs PostgreSQL from Debian, when needed.
# Prints nothing but progress; exits non-zero when no server can be had.
set -euo pipefail

ROLE=${KATTOO_PG_ROLE:-kattoo}

as_postgres() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "ensure-postgres: installing PostgreSQL from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "ensure-postgres: starting cluster $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 1
  done
fi
pg_isready -q -h 127.0.0.1 -p 5432

# A role with a password works under both trust and md5/scram authentication.
if ! PGPASSWORD=$ROLE psql -h 127.0.0.1 -U "$ROLE" -d postgres -Atqc "select 1" >/dev/null 2>&1; then
  echo "ensure-postgres: creating role $ROLE"
  as_postgres psql -q -d postgres -c "CREATE ROLE $ROLE LOGIN SUPERUSER PASSWORD '$ROLE'" 2>/dev/null \
    || as_postgres psql -q -d postgres -c "ALTER ROLE $ROLE LOGIN SUPERUSER PASSWORD '$ROLE'"
fi
