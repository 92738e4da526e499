"""API v1 (issue 11)."""

from __future__ import annotations

from ninja import Router

from ..auth import bearer

router = Router(tags=["staff_accounts"], auth=bearer)
