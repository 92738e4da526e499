"""The registry adapter's own errors. The rest of the code catches these, never HTTP errors."""

from __future__ import annotations


class RegistryError(Exception):
    """Anything that went wrong talking to Tunduk."""


class RegistryUnavailable(RegistryError):
    """Tunduk (or the provider behind it) did not answer or failed: retry later."""


class RegistryNotFound(RegistryError):
    """The registry has no record for this PIN."""


class RegistryRejected(RegistryError):
    """The registry refused the request itself (a ``Client.*`` fault): our bug, not the user's."""
