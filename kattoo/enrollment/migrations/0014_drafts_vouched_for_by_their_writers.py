"""A draft's stored facts vouched for by their writers (ADR 0046, issue 15).

A draft saved on PostgreSQL keeps, beside its stamp, what the opening minute's short read
takes from it instead of the child's link and the two person rows: ``facts["vouched"]`` (the
relation, the child's names and birth date) and ``phone`` (the applicant's phone, the SMS's
address; encrypted like the person's). These triggers keep them true: any write that changes
what they copy clears both from the drafts it concerns, in the writer's own transaction,
whoever the writer is (a registry refresh, the family sync, the commission's placement,
anonymisation, a hand in the database). Such a draft is then read in full, as a draft whose
stamp no longer holds is.

- ``people_person``: a change of the facts' epoch (every write of a fact bumps it, the phone's
  included: ``people.services.family_facts_touch``, anonymisation), of the names or of the
  birth date. Not the phone's column itself: its ciphertext changes at every save of the row
  (a new IV), and a key rotation re-encrypts the draft's copy with the person's. One statement
  per writing statement (transition tables), for the drafts of the changed people as the child
  and as the applicant (through their user).
- ``people_childlink``: a link added, removed, or changed in its applicant, child or
  relation, for the drafts of that child by that applicant's user; its other columns (the
  verification's time, the X-Road id) vouch for nothing.

The race with a draft's save is closed by the save's locks (``facts.facts_stamp``): the
writer's UPDATE waits for the saving transaction, and the trigger's statement, run after it
under READ COMMITTED, sees the saved draft. SQLite (the embedded default) gets none of it: its
drafts store no ``vouched`` facts and it has no short read."""

import fernet_fields.fields
from django.db import migrations

from kattoo.core.migration_ops import RunSQLOnPostgreSQL

# One statement each (``RunSQLOnPostgreSQL`` runs them one at a time).
CREATE = [
    """
CREATE FUNCTION enrollment_drafts_unvouch(people bigint[])
RETURNS void LANGUAGE sql AS $$
    -- Two statements, each on its index (the child's, the user's): one with an OR between
    -- them would read every draft of the country.
    UPDATE enrollment_draft d SET facts = d.facts - 'vouched', phone = NULL
     WHERE d.facts ? 'vouched' AND d.child_id = ANY (people);
    UPDATE enrollment_draft d SET facts = d.facts - 'vouched', phone = NULL
     WHERE d.facts ? 'vouched'
       AND d.user_id = ANY (ARRAY(SELECT u.id FROM accounts_user u
                                   WHERE u.person_id = ANY (people)));
$$""",
    """
CREATE FUNCTION enrollment_drafts_unvouch_people() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed bigint[];
BEGIN
    SELECT array_agg(n.id) INTO changed
      FROM new_people n JOIN old_people o ON o.id = n.id
     WHERE (n.facts_epoch, n.surname, n.name, n.birth_date)
           IS DISTINCT FROM (o.facts_epoch, o.surname, o.name, o.birth_date);
    IF changed IS NOT NULL THEN
        PERFORM enrollment_drafts_unvouch(changed);
    END IF;
    RETURN NULL;
END
$$""",
    """
CREATE TRIGGER enrollment_drafts_unvouch_people
    AFTER UPDATE ON people_person
    REFERENCING OLD TABLE AS old_people NEW TABLE AS new_people
    FOR EACH STATEMENT EXECUTE FUNCTION enrollment_drafts_unvouch_people()""",
    """
CREATE FUNCTION enrollment_drafts_unvouch_link() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.applicant_id, NEW.child_id, NEW.relation)
                            IS NOT DISTINCT FROM (OLD.applicant_id, OLD.child_id, OLD.relation)
    THEN
        RETURN NULL;
    END IF;
    -- The drafts of this child made by this applicant's user, before and after the write.
    UPDATE enrollment_draft d SET facts = d.facts - 'vouched', phone = NULL
      FROM accounts_user u
     WHERE d.facts ? 'vouched' AND u.id = d.user_id
       AND ((TG_OP <> 'INSERT' AND d.child_id = OLD.child_id AND u.person_id = OLD.applicant_id)
            OR (TG_OP <> 'DELETE' AND d.child_id = NEW.child_id
                AND u.person_id = NEW.applicant_id));
    RETURN NULL;
END
$$""",
    """
CREATE TRIGGER enrollment_drafts_unvouch_link
    AFTER INSERT OR UPDATE OR DELETE ON people_childlink
    FOR EACH ROW EXECUTE FUNCTION enrollment_drafts_unvouch_link()""",
]

DROP = [
    "DROP TRIGGER IF EXISTS enrollment_drafts_unvouch_link ON people_childlink",
    "DROP FUNCTION IF EXISTS enrollment_drafts_unvouch_link()",
    "DROP TRIGGER IF EXISTS enrollment_drafts_unvouch_people ON people_person",
    "DROP FUNCTION IF EXISTS enrollment_drafts_unvouch_people()",
    "DROP FUNCTION IF EXISTS enrollment_drafts_unvouch(bigint[])",
    # Backwards, nothing keeps the vouched facts true any more: none may be left.
    "UPDATE enrollment_draft SET facts = facts - 'vouched' WHERE facts ? 'vouched'",
]


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0013_time_ordered_ids"),
        ("people", "0006_person_facts_epoch"),
        ("accounts", "0006_login_challenge_handle_and_pin"),
    ]

    operations = [
        migrations.AddField(
            model_name="draft",
            name="phone",
            field=fernet_fields.fields.EncryptedCharField(
                blank=True, default=None, editable=False, max_length=16, null=True
            ),
        ),
        RunSQLOnPostgreSQL(CREATE, DROP),
    ]
