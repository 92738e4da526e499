#!/usr/bin/env bash
# Audit the installed Python dependencies for known vulnerabilities (pip-audit against PyPI's
# advisory data). `make audit` runs it; `.ci/run` runs it after `make test`.
#
# Exit status: 1 when a vulnerable package is installed (upgrade it in pyproject.toml), and on
# any error this script does not recognise. When the advisory service cannot be reached (no
# network, DNS, proxy, timeout, PyPI answering 5xx) it only WARNS and exits 0, so an outage
# elsewhere does not make CI flaky. Packages the index does not know (a private mirror, a
# local wheel) cannot be audited: they are counted and named in a warning, never hidden
# behind "no known vulnerabilities".
set -uo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

.venv/bin/pip-audit --local --skip-editable --progress-spinner off --timeout 30 \
  --format json --output "$out" 2>"$err"
status=$?

if [ -s "$out" ]; then
  # 0: audited, nothing found; 1: vulnerabilities found.
  .venv/bin/python - "$out" <<'PY'
import json, sys

report = json.load(open(sys.argv[1]))
deps = report.get("dependencies", [])
skipped = [d for d in deps if d.get("skip_reason")]
audited = len(deps) - len(skipped)
found = [d for d in deps if d.get("vulns")]
for d in found:
    for v in d["vulns"]:
        fixes = ", ".join(v.get("fix_versions") or []) or "no fixed version yet"
        print(f"dependency-audit: {d['name']} {d['version']}: {v['id']} (fixed in: {fixes})")
print(f"dependency-audit: {audited} packages audited, {len(found)} vulnerable, "
      f"{len(skipped)} unknown to the index (not audited)")
if skipped:
    names = ", ".join(d["name"] for d in skipped[:12]) + (" …" if len(skipped) > 12 else "")
    print(f"dependency-audit: WARNING: not audited: {names}")
sys.exit(1 if found else 0)
PY
  verdict=$?
  if [ $verdict -ne 0 ]; then
    echo "dependency-audit: FAILED: vulnerable packages are installed; upgrade them in pyproject.toml"
    exit 1
  fi
  [ $status -eq 0 ] && exit 0
fi

if grep -qiE "connection|timed? ?out|name resolution|name or service not known|proxy|max retries exceeded|ssl|50[0-9] server error|network is unreachable" "$err"; then
  echo "dependency-audit: WARNING: the advisory service could not be reached; nothing was audited"
  tail -n 1 "$err" | cut -c1-300 | sed 's/^/dependency-audit:   /'
  exit 0
fi

echo "dependency-audit: FAILED: pip-audit ended with status $status"
cat "$err"
exit 1
