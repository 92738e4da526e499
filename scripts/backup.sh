#!/usr/bin/env bash
# Back up the Kattoo database: a pg_dump in the custom format, named with the database and a
# UTC timestamp, its SHA-256, and a manifest of every table's row count taken in the SAME
# snapshot as the dump (restore.sh compares against it). docs/runbooks/backup-restore.md.
#
#   DATABASE_URL=postgres://user:pass@host:5432/kattoo scripts/backup.sh [OUT_DIR]
#
# Prints the dump's path; writes OUT_DIR/<db>-<UTC timestamp>.{dump,counts,sha256} only.
set -euo pipefail

url=${DATABASE_URL:?set DATABASE_URL to the database to back up}
out_dir=${1:-${KATTOO_BACKUP_DIR:-var/backups}}
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
db=$(psql "$url" -X -At -c "SELECT current_database()")
name="$db-$(date -u +%Y%m%dT%H%M%SZ)"
base="$out_dir/$name"
export KATTOO_BACKUP_URL=$url KATTOO_BACKUP_BASE=$base

# One read-only REPEATABLE READ transaction exports its snapshot, counts every table in it,
# and keeps it open while pg_dump runs on it: the counts and the dump hold the same rows,
# however busy the database is.
psql "$url" -X -q -At -v ON_ERROR_STOP=1 -v counts_file="$base.counts.partial" <<'SQL'
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT pg_export_snapshot() AS snapshot \gset
\setenv KATTOO_BACKUP_SNAPSHOT :snapshot
\o :counts_file
SELECT format('%s %s', c.relname,
       (xpath('/row/n/text()',
              query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname),
                           false, true, '')))[1]::text)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public'
 ORDER BY c.relname;
\o
\! pg_dump "$KATTOO_BACKUP_URL" --format=custom --compress=6 --no-owner --snapshot="$KATTOO_BACKUP_SNAPSHOT" --file="$KATTOO_BACKUP_BASE.dump.partial" && mv "$KATTOO_BACKUP_BASE.dump.partial" "$KATTOO_BACKUP_BASE.dump"
COMMIT;
SQL

if [ ! -s "$base.dump" ]; then
  rm -f "$base.dump.partial" "$base.counts.partial"
  echo "backup: FAILED: pg_dump did not finish" >&2
  exit 1
fi
mv "$base.counts.partial" "$base.counts"
(cd "$out_dir" && sha256sum "$name.dump" "$name.counts" >"$name.sha256")
echo "$base.dump"
