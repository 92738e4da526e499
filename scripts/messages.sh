#!/usr/bin/env bash
# Extract every translatable string into locale/{ky,ru,uz,en}/LC_MESSAGES/django.po (needs
# GNU gettext's xgettext: apt-get install gettext). Translators then fill in msgstr.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python manage.py makemessages -l ky -l ru -l uz -l en --no-obsolete --no-location \
  --ignore='.venv/*' --ignore='tests/*' --ignore='bench/*' --ignore='var/*' "$@"
