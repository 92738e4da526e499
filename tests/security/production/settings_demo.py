"""Where the proof's demo is built (``load_demo`` refuses production settings: its staff have a
published password): local settings with the same fast password hasher as the proof's
production settings (settings.py), so the demo's staff passwords are checked in
milliseconds."""

from config.settings.local import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
