#!/usr/bin/env bash
# The last step of `make run` (set-up, assets and build already done): bring the schema up
# to date, load the demo data, then serve in the foreground until interrupted.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PARLEY_ROOT"

bin=bin/parley
# The demo inbox's address is demo@inbound.parley.test: its conversations' reply addresses
# (demo+<token>@...) share its domain. Mail stays on this machine (the mailbox simulator).
export PARLEY_EMAIL_DOMAIN="${PARLEY_EMAIL_DOMAIN:-inbound.parley.test}"
say "migrating the database"
"$bin" migrate up
say "seeding demo data"
"$bin" seed --demo
say "serving on $PARLEY_BASE_URL (listening on $PARLEY_HTTP_ADDR; Ctrl-C stops, 'make stop' stops private services)"
exec "$bin" serve
