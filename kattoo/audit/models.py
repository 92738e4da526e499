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
    # Filled by the sealing job (audit/chain.py), never by the write itself: each sealed event's
    # hash covers the previous one's, so editing or deleting any sealed row breaks the chain.
    chain_hash = models.CharField(max_length=64, blank=True, default="", db_default="")

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
            # registration an entry on its rightmost page (3-8 % of the app's SQL at 16
            # clients). Ranges are summarized by autovacuum as they fill; the newest,
            # unsummarized range is always read, which is where the viewer's first page is.
            BrinIndex(fields=["at"], name="audit_at_brin", autosummarize=True),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """The end of the sealed chain (one row): where the next sealing run continues."""

    last_event_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")
    sealed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"audit chain sealed up to {self.last_event_id}"
