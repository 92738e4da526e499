"""The access walk uses the staff pages' scene: one of everything a URL can point at."""

from ..web.staff.conftest import _limits, scene  # noqa: F401 (fixtures)
