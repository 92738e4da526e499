#!/usr/bin/env bash
# System packages the tests need from Debian: Chromium for the browser tests (Playwright drives
# it; never a downloaded browser) and the DejaVu fonts for PDF exports with Kyrgyz letters.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
  echo "ensure-chromium: installing ${missing[*]} from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
