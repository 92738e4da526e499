"""Staff pages (issue 11). Routes of this module are in ``patterns``, added to web:staff."""

from __future__ import annotations

from django.urls import URLPattern

patterns: list[URLPattern] = []
