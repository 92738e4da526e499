"""Audit events are written once (ADR 0039, session 14): PostgreSQL refuses any UPDATE or
DELETE statement on their table. The seal's links are rows of their own (``AuditSeal``) and
retention never touches the trail, so nothing the application does is refused; a bug that
tried, or a hand with the application's credentials, is stopped before the chain has to tell.
The table's owner can still switch the trigger off — which is why the chain exists.

TRUNCATE is not refused: Django's test flush uses it, and it empties the table at once, which
the chain's head then names. SQLite (the embedded default, one local writer) gets none of it:
its test flush deletes rows."""

from django.db import migrations

from kattoo.core.migration_ops import RunSQLOnPostgreSQL

# One statement each (``RunSQLOnPostgreSQL`` runs them one at a time).
CREATE = [
    """
CREATE FUNCTION audit_events_written_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are written once: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation',
              HINT = 'the audit trail is append-only (ADR 0039)';
END
$$""",
    """
CREATE TRIGGER audit_events_written_once
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_written_once()""",
]

DROP = [
    "DROP TRIGGER IF EXISTS audit_events_written_once ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_events_written_once()",
]


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_seal_rows_of_their_own")]

    operations = [RunSQLOnPostgreSQL(CREATE, DROP)]
