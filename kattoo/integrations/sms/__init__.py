"""An SMS gateway over HTTP (ADR 0022)."""
