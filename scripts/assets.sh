#!/usr/bin/env bash
# Vendors htmx and its websocket extension, installed from the npm registry at the exact
# versions pinned in package-lock.json, into static/vendor/ (embedded by the Go binary).
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PARLEY_ROOT"

command -v npm >/dev/null 2>&1 || "$PARLEY_ROOT/scripts/deps.sh" node

# npm writes node_modules/.package-lock.json on every install: reinstall only when it is
# missing or older than the committed lock file.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
	say "installing front-end packages (npm ci)"
	npm ci --no-audit --no-fund --loglevel=error
	touch node_modules/.package-lock.json
fi

mkdir -p static/vendor
copy() { # SRC DST: only when changed, so timestamps stay put
	[[ -f "$1" ]] || die "$1 not found: did the package layout change?"
	cmp -s "$1" "$2" 2>/dev/null || cp "$1" "$2"
}
copy node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
copy node_modules/htmx-ext-ws/dist/ws.min.js static/vendor/htmx-ext-ws.js
