#!/usr/bin/env bash
# Makes `npm test` and `npm run demo` work as the first command typed in a fresh clone: installs the npm packages
# when node_modules is missing or older than package-lock.json, and the sandbox's Debian packages when any is
# missing (with sudo when not root), saying what it installs. Quiet when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# npm writes node_modules/.package-lock.json on every install: missing or older than the lock means stale.
if [ ! -f node_modules/.package-lock.json ]; then
  echo "ensure-ready: node_modules is missing: installing the npm packages (scripts/npm-ci.sh, npm ci)"
  bash scripts/npm-ci.sh
elif [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ensure-ready: package-lock.json is newer than node_modules: reinstalling the npm packages (npm ci)"
  bash scripts/npm-ci.sh
fi

# The sandbox's Debian packages: setup-sandbox.sh names and installs what is missing, and does nothing otherwise.
bash scripts/setup-sandbox.sh
