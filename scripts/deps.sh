#!/usr/bin/env bash
# Installs, from Debian's packages, whatever `make run` / `make test` need and this machine
# lacks. Nothing already present is touched, and apt-get update runs at most once, only
# when something is missing.
#
#   scripts/deps.sh run    PostgreSQL server+client, Redis, Node.js+npm
#   scripts/deps.sh test   the same plus Chromium (browser tests), fonts, a C compiler (-race)
#   scripts/deps.sh node   Node.js+npm only (for `make assets` on its own)
#   scripts/deps.sh tools  the Go tools `make lint` runs (`make test` installs them too)
#
# Go tools come from the Go module proxy at a pinned version, `go install`ed into .data/bin
# (never onto the system); a tool already there at that version is left alone.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

mode="${1:-run}"
missing=()

have() { command -v "$1" >/dev/null 2>&1; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
need_cmd() { have "$1" || missing+=("$2"); } # need_cmd COMMAND PACKAGE
need_pkg() { have_pkg "$1" || missing+=("$1"); }

have go || die "Go is not installed (see https://go.dev/doc/install); it is the one thing set-up does not install"

# staticcheck 2026.2.2; its release must support the Go that builds the project (0.8.x
# needs Go 1.26). Bump it with Go.
STATICCHECK_VERSION=v0.8.2
PARLEY_BIN="$PARLEY_DATA/bin"

install_tools() {
	local want="(${STATICCHECK_VERSION#v})" # `staticcheck -version` prints "2026.2.2 (0.8.2)"
	if [[ "$("$PARLEY_BIN/staticcheck" -version 2>/dev/null)" != *"$want"* ]]; then
		say "installing staticcheck $STATICCHECK_VERSION into $PARLEY_BIN"
		GOBIN="$PARLEY_BIN" go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
	fi
}

need_node() {
	need_cmd node nodejs
	# NodeSource's nodejs ships npm itself; Debian's npm package would conflict with it.
	have npm || have_pkg npm || missing+=(npm)
}

need_services() {
	[[ -n "$(pg_bindir)" ]] || missing+=(postgresql)
	need_cmd psql postgresql-client
	need_cmd pg_isready postgresql-client
	need_cmd redis-server redis-server
	need_cmd redis-cli redis-tools
}

case "$mode" in
run)
	need_services
	need_node
	;;
test)
	need_services
	need_node
	[[ -x "${PARLEY_CHROMIUM}" ]] || have chromium || missing+=(chromium)
	need_pkg fonts-dejavu-core # readable screenshots
	need_cmd gcc gcc           # go test -race needs cgo
	install_tools
	;;
node) need_node ;;
tools) install_tools ;;
*) die "usage: $0 run|test|node|tools" ;;
esac

if ((${#missing[@]} == 0)); then
	exit 0
fi

# Deduplicate (postgresql-client can be listed twice).
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)

sudo=()
if [[ "$(id -u)" != 0 ]]; then
	have sudo || die "need root or sudo to install: ${missing[*]}"
	sudo=(sudo)
fi

say "installing missing packages: ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
