#!/usr/bin/env bash
# Installs, from Debian's packages, whatever `make run` / `make test` need and this machine
# lacks. Nothing already present is touched, and apt-get update runs at most once, only
# when something is missing. apt's and dpkg's output goes to .data/setup.log; each step
# prints one line.
#
#   scripts/deps.sh run    PostgreSQL server+client, Redis, CA certificates (Go's downloads)
#   scripts/deps.sh test   the same plus Chromium (browser tests), fonts, a C toolchain
#                          (gcc and libc6-dev: go vet and go test -race need cgo), swaks, python3
#                          (the SMTP listener's interop test), Go tools
#   scripts/deps.sh node   Node.js+npm only (for `make assets`, nothing else needs them)
#   scripts/deps.sh tools  the Go tools `make lint` runs (`make test` installs them too)
#
# A package counts as present only when dpkg has it fully installed, so an install that was
# interrupted (unpacked, half-configured) is finished on the next run; dpkg's own pending
# work (`dpkg --audit`) is completed first. After installing, `test` checks that the C
# toolchain really builds a program, since a compiler without its C library passes every
# `command -v` test and fails only inside go vet.
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

mkdir -p "$PARLEY_DATA"
have go || die "Go is not installed (see https://go.dev/doc/install); it is the one thing set-up does not install"

# staticcheck 2026.2.2; its release must support the Go that builds the project (0.8.x
# needs Go 1.26). Bump it with Go.
STATICCHECK_VERSION=v0.8.2
PARLEY_BIN="$PARLEY_DATA/bin"

install_tools() {
	local want="(${STATICCHECK_VERSION#v})" # `staticcheck -version` prints "2026.2.2 (0.8.2)"
	if [[ "$("$PARLEY_BIN/staticcheck" -version 2>/dev/null)" != *"$want"* ]]; then
		step "installing staticcheck $STATICCHECK_VERSION into .data/bin" \
			env GOBIN="$PARLEY_BIN" go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
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
	# Go fetches modules over https and reads the system's CA bundle (minimal images lack it).
	[[ -s /etc/ssl/certs/ca-certificates.crt ]] || missing+=(ca-certificates)
}

# cgo_works: the C toolchain go vet and go test -race use builds and links a program.
cgo_works() {
	local cc tmp rc=0
	cc="$(go env CC)"
	tmp="$(mktemp -d)"
	printf '#include <stdio.h>\n#include <stdlib.h>\nint main(void) { puts("ok"); return EXIT_SUCCESS; }\n' >"$tmp/t.c"
	"$cc" -o "$tmp/t" "$tmp/t.c" && "$tmp/t" >/dev/null || rc=$?
	rm -rf "$tmp"
	return "$rc"
}

case "$mode" in
run)
	need_services
	;;
test)
	need_services
	[[ -x "${PARLEY_CHROMIUM}" ]] || have chromium || missing+=(chromium)
	need_pkg fonts-dejavu-core # readable screenshots
	need_cmd swaks swaks       # the email listener's interop test sends with it
	need_cmd python3 python3   # ... and with Python's smtplib (a minimal Debian has no Python)
	# go vet and go test -race need cgo: a compiler and the C library's headers and crt files.
	if ! cgo_works >>"$PARLEY_SETUP_LOG" 2>&1; then
		need_pkg gcc
		need_pkg libc6-dev
	fi
	;;
node) need_node ;;
tools) ;;
*) die "usage: $0 run|test|node|tools" ;;
esac

sudo=()
if [[ "$(id -u)" != 0 ]]; then
	sudo=(sudo)
fi
need_root() {
	[[ ${#sudo[@]} == 0 ]] || have sudo || die "need root or sudo to $*"
}

# repair_dpkg: configure what was unpacked; a package whose dependencies never arrived
# stays unconfigured there, and apt-get -f install then fetches them and configures it.
repair_dpkg() {
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive dpkg --configure -a ||
		echo "(dpkg --configure -a left packages unconfigured: apt-get -f install fetches what they lack)"
	"${apt[@]}" -f install -y
	[[ -z "$(dpkg --audit)" ]] || { dpkg --audit; return 1; }
}

if ((${#missing[@]} > 0)); then
	# Deduplicate (postgresql-client can be listed twice).
	mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
	need_root "install: ${missing[*]}"
	apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300)
	say "missing: ${missing[*]} (apt's output goes to ${PARLEY_SETUP_LOG#"$PARLEY_ROOT"/})"
	# dpkg left work pending (an install interrupted by Ctrl-C, a full disk, a lost
	# session): finish it first, or apt refuses to install anything.
	step "apt-get update" "${apt[@]}" update
	if [[ -n "$(dpkg --audit 2>/dev/null)" ]]; then
		step "finishing an interrupted installation (dpkg --configure -a, apt-get -f install)" repair_dpkg
	fi
	step "installing ${#missing[@]} package(s) with apt-get" \
		"${apt[@]}" install -y --no-install-recommends "${missing[@]}"
fi

if [[ "$mode" == test ]]; then
	cgo_works >>"$PARLEY_SETUP_LOG" 2>&1 ||
		die "the C toolchain ($(go env CC)) cannot build a program, so go vet and go test -race would fail; is libc6-dev fully installed? (details in $PARLEY_SETUP_LOG)"
fi
if [[ "$mode" == test || "$mode" == tools ]]; then
	install_tools
fi
