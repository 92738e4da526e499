"""The stored answers of ``Idempotency-Key`` requests get no column statistics (ADR 0060).

No query selects, joins or sorts by ``response``: a record is found by (user, key) through
``idempotency_unique`` and its answer returned as it is. Yet ANALYZE sorted a sample of up to
30,000 answers (~600 bytes of nested JSON each) with ``jsonb_cmp`` every time autovacuum
visited the table, and the table takes one row per registration of the opening minute: on
the national seed, with 76,000 rows, ``ANALYZE`` of the table took 0.55 s, 0.43 s of it this
column. ``SET STATISTICS 0`` leaves the column out of ANALYZE; the other columns keep theirs.
It takes a SHARE UPDATE EXCLUSIVE lock, which writers do not wait for. Nothing on SQLite."""

from django.db import migrations

from kattoo.core.migration_ops import RunSQLOnPostgreSQL


class Migration(migrations.Migration):
    dependencies = [("enrollment", "0014_drafts_vouched_for_by_their_writers")]

    operations = [
        RunSQLOnPostgreSQL(
            ["ALTER TABLE enrollment_idempotencyrecord ALTER COLUMN response SET STATISTICS 0"],
            ["ALTER TABLE enrollment_idempotencyrecord ALTER COLUMN response SET STATISTICS -1"],
        )
    ]
