"""Who is acting and through which channel — recorded with every write (§7)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from kattoo.accounts.models import User

Channel = Literal["api", "web", "cli", "system"]


@dataclass(frozen=True, slots=True)
class Actor:
    user: User | None
    channel: Channel = "api"
    request_id: str = ""

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None

    @classmethod
    def system(cls) -> Actor:
        return cls(user=None, channel="system")
