#!/usr/bin/env bash
# Restore a backup made by backup.sh into a NEW database and verify it: the dump's SHA-256,
# every table's row count against the manifest taken with the dump, and the audit chain
# (manage.py audit_verify). Never overwrites a database. docs/runbooks/backup-restore.md.
#
#   DATABASE_URL=postgres://user:pass@host:5432/postgres scripts/restore.sh DUMP NEW_DB_NAME
#
# DATABASE_URL names the server (any database on it); NEW_DB_NAME is created. Exit status 0
# only when the restored database matches the backup and its audit chain is intact.
set -euo pipefail
cd "$(dirname "$0")/.."

dump=${1:?usage: restore.sh DUMP NEW_DB_NAME}
target=${2:?usage: restore.sh DUMP NEW_DB_NAME}
url=${DATABASE_URL:?set DATABASE_URL to the server to restore into}
[[ $target =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || { echo "restore: bad database name $target" >&2; exit 2; }
dir=$(cd "$(dirname "$dump")" && pwd)
name=$(basename "$dump" .dump)

echo "restore: checking the SHA-256 of $name"
(cd "$dir" && sha256sum --quiet -c "$name.sha256")

target_url="${url%%\?*}"
target_url="${target_url%/*}/$target"
psql "$url" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$target\""
echo "restore: restoring into $target"
pg_restore --exit-on-error --no-owner --dbname="$target_url" "$dir/$name.dump"

echo "restore: comparing row counts with the backup's manifest"
psql "$target_url" -X -q -At -v ON_ERROR_STOP=1 >"$dir/$name.restored-counts" <<'SQL'
SELECT format('%s %s', c.relname,
       (xpath('/row/n/text()',
              query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname),
                           false, true, '')))[1]::text)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public'
 ORDER BY c.relname;
SQL
if ! diff -u "$dir/$name.counts" "$dir/$name.restored-counts"; then
  echo "restore: FAILED: row counts differ from the backup (database $target kept for inspection)" >&2
  exit 1
fi
tables=$(wc -l <"$dir/$name.counts")
rm -f "$dir/$name.restored-counts"

echo "restore: verifying the audit chain"
DATABASE_URL=$target_url DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.local} \
  .venv/bin/python manage.py audit_verify
echo "restore: OK: $target holds the backup $name ($tables tables, counts equal, audit chain intact)"
