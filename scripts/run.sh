#!/usr/bin/env bash
# The last step of `make run` (set-up, assets and build already done): bring the schema up
# to date, load the demo data, then serve in the foreground until interrupted.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PARLEY_ROOT"

bin=bin/parley
say "migrating the database"
"$bin" migrate up
say "seeding demo data"
"$bin" seed --demo
say "serving on $PARLEY_BASE_URL (listening on $PARLEY_HTTP_ADDR; Ctrl-C stops, 'make stop' stops private services)"
exec "$bin" serve
