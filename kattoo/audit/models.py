from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.fields.json import KeyTransform

from kattoo.core.indexes import BrinIndex


class AuditEvent(models.Model):
    """One recorded action (§7): who, what, when, on which object, through which channel.

    Written by services in the same transaction as the change it describes, so a change
    without its audit row cannot exist.
    """

    # Its index is a BRIN (``Meta.indexes``), not a B-tree: every registration writes an event.
    at = models.DateTimeField()
    # Indexed with the id below: the viewer lists an actor's or an action's events newest first.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        # No database constraint (ADR 0026): every write's audit row would share-lock its
        # actor's row at commit; ``manage.py integrity_check`` finds orphans instead.
        db_constraint=False,
    )
    channel = models.CharField(max_length=16)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            # The audit viewer pages newest first by id (keyset): an index that ends in the id
            # serves "WHERE action = … AND id < cursor ORDER BY id DESC LIMIT n" directly.
            models.Index(fields=["action", "id"], name="audit_action_id"),
            models.Index(fields=["actor", "id"], name="audit_actor_id"),
            models.Index(fields=["request_id"], name="audit_request_id"),
            # Events whose data names a school (registrations, microdistricts, teachers, …):
            # the viewer's school and district filters.
            models.Index(KeyTransform("school", "data"), name="audit_data_school"),
            # The viewer's dates (issue 15, ADR 0039). Events are appended in time order, so a
            # BRIN's per-range bounds find a period's pages; a B-tree here cost every
            # registration an entry on its rightmost page (the app's SQL at 16 clients: 6.7 %
            # faster without it, mean of four rounds). Ranges are summarized by autovacuum as
            # they fill; the newest, unsummarized range is always read, which is where the
            # viewer's first page is.
            BrinIndex(fields=["at"], name="audit_at_brin", autosummarize=True),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}:{self.object_id}"

    @property
    def chain_hash(self) -> str:
        """The event's link in the chain (``AuditSeal``), or "" while it is not sealed."""
        try:
            return self.seal.hash
        except AuditSeal.DoesNotExist:
            return ""


class AuditSeal(models.Model):
    """A sealed event's link in the chain (ADR 0012, 0039): SHA-256 over the previous sealed
    event's hash and this event's content, so editing or deleting any sealed event breaks the
    chain from there on. Written by the sealing job (audit/chain.py), never by the event's write.

    A row of its own and not a column of the event: sealing then inserts one narrow row per
    event instead of rewriting the event (a new version of the whole row and an entry in each of
    its indexes, as no page has room for the update) — an event is never changed after it is
    written. No database constraint to the event: deleting a sealed event must leave its link
    behind, which is how the verifier tells the deletion."""

    event = models.OneToOneField(
        AuditEvent,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="seal",
    )
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"audit event {self.event_id} sealed {self.hash[:12]}"


class AuditChainHead(models.Model):
    """The end of the sealed chain (one row): where the next sealing run continues."""

    last_event_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")
    sealed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"audit chain sealed up to {self.last_event_id}"
