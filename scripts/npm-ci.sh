#!/usr/bin/env bash
# `npm ci`, with one known exception. The package registry this project's machines reach does not carry the
# other-platform builds of a few optional native packages (biome, swc, unrs resolver bindings for macOS, Windows,
# musl…), so npm cannot write them into package-lock.json and `npm ci` then refuses the lock as "out of sync". When
# every entry it misses is such an optional platform binary, install exactly the locked versions with
# `npm install --no-save` (which leaves package-lock.json untouched, checked below); any other mismatch fails.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
if npm ci --no-audit --no-fund >"$log" 2>&1; then
  tail -n 3 "$log"
  exit 0
fi
missing=$(sed -n 's/^npm error Missing: \(.*\)@.* from lock file$/\1/p' "$log")
platform='^@(biomejs/cli|swc/core|unrs/resolver-binding)-(android|darwin|freebsd|openharmony|win32|linux-(arm|arm64-musl|x64-musl|ppc64|s390x|riscv64|loong64))'
if [ -z "$missing" ] || echo "$missing" | grep -Evq "$platform"; then
  cat "$log" >&2
  echo "npm ci failed for a reason other than missing other-platform binaries: fix package-lock.json." >&2
  exit 1
fi
echo "npm ci: $(echo "$missing" | wc -l) other-platform optional binaries are not on this registry; installing the locked versions with npm install --no-save"
before=$(sha256sum package-lock.json)
npm install --no-save --no-audit --no-fund
if [ "$before" != "$(sha256sum package-lock.json)" ]; then
  echo "npm install changed package-lock.json: it is out of sync with package.json." >&2
  git diff --stat -- package-lock.json >&2 || true
  exit 1
fi
