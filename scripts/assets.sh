#!/usr/bin/env bash
# `make assets`: the one way to update the third-party files committed in static/vendor/
# (htmx and its websocket extension). Building and testing never need it, or Node.
#
# npm ci installs the exact versions package-lock.json pins and checks each tarball against
# the lock's integrity; static/vendor_test.go -update then copies the files listed in
# static/vendor/vendor.json from node_modules and rewrites the manifest (versions, integrity,
# licences, sha256). To move to a new version: edit package.json, `npm install`, `make assets`,
# and commit package*.json with static/vendor/.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PARLEY_ROOT"

command -v npm >/dev/null 2>&1 || "$PARLEY_ROOT/scripts/deps.sh" node

say "npm ci (the versions package-lock.json pins, tarballs checked against its integrity)"
npm ci --no-audit --no-fund --loglevel=error
say "copying the vendored files and rewriting static/vendor/vendor.json"
if ! out="$(go test -count=1 -v -run '^TestVendorManifest$' ./static -args -update 2>&1)"; then
	printf '%s\n' "$out" >&2
	die "updating static/vendor failed"
fi
changes="$(printf '%s\n' "$out" | grep -oE '(updated|rewrote) .*' || true)"
if [[ -n "$changes" ]]; then
	printf '    %s\n' "$changes"
	say "static/vendor changed: review and commit it with package.json and package-lock.json"
else
	say "static/vendor is up to date with package-lock.json"
fi
