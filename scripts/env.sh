# shellcheck shell=bash
# Sourced by the other scripts and by the Makefile's recipes (never run on its own).
# It exports the defaults that parley itself reads, so `make run` and `make test` need no
# configuration; any variable already set in the environment wins.

PARLEY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PARLEY_ROOT
PARLEY_DATA="$PARLEY_ROOT/.data" # private service data, session secret: gitignored

# The PostgreSQL default is 127.0.0.1:5432 with trust auth, unless services.sh found a server
# there that wants a password (Debian's own cluster, started when the postgresql package is
# installed) and started a private cluster on another port instead: it records that URL in
# .data/database-url. PARLEY_DATABASE_URL_DEFAULT (not exported) tells services.sh the URL
# is ours to choose, so it may do that; a URL you set is used as it is.
if [[ -z "${PARLEY_DATABASE_URL:-}" ]]; then
	PARLEY_DATABASE_URL_DEFAULT=1
	if [[ -s "$PARLEY_DATA/database-url" ]]; then
		PARLEY_DATABASE_URL="$(cat "$PARLEY_DATA/database-url")"
	else
		PARLEY_DATABASE_URL="postgres://postgres@127.0.0.1:5432/parley?sslmode=disable"
	fi
fi
export PARLEY_DATABASE_URL
export PARLEY_REDIS_URL="${PARLEY_REDIS_URL:-redis://127.0.0.1:6379/0}"
export PARLEY_HTTP_ADDR="${PARLEY_HTTP_ADDR:-127.0.0.1:8080}"
export PARLEY_BASE_URL="${PARLEY_BASE_URL:-http://localhost:8080}"

# Tests default to the same servers as the app: the maintenance database "postgres" of the
# same PostgreSQL (tests CREATE/DROP databases of their own there) and the same Redis.
if [[ -z "${PARLEY_TEST_DATABASE_URL:-}" ]]; then
	PARLEY_TEST_DATABASE_URL_DEFAULT="${PARLEY_DATABASE_URL_DEFAULT:-}"
	PARLEY_TEST_DATABASE_URL="$(
		url="${PARLEY_DATABASE_URL%%\?*}"
		query=""
		[[ "$PARLEY_DATABASE_URL" == *\?* ]] && query="?${PARLEY_DATABASE_URL#*\?}"
		printf '%s/postgres%s' "${url%/*}" "$query"
	)"
fi
export PARLEY_TEST_DATABASE_URL
# PARLEY_TEST_REDIS_URL's database number holds the tests' locks (parley:testlock:N, with a
# TTL); PARLEY_TEST_REDIS_DBS lists the databases test packages may take (one each, e.g.
# "1-15" or "3,5-9"; 0 never). A package takes only an empty one, marks it and flushes it when
# done, so databases with data the tests did not create are left alone.
export PARLEY_TEST_REDIS_URL="${PARLEY_TEST_REDIS_URL:-$PARLEY_REDIS_URL}"
export PARLEY_TEST_REDIS_DBS="${PARLEY_TEST_REDIS_DBS:-1-15}"
export PARLEY_CHROMIUM="${PARLEY_CHROMIUM:-/usr/bin/chromium}"
export PARLEY_TEST_OUTPUT="${PARLEY_TEST_OUTPUT:-$PARLEY_ROOT/test-output}"

# Go may be installed in its usual place without being on PATH (non-login shells, CI).
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	export PATH="$PATH:/usr/local/go/bin"
fi

say() { printf '==> %s\n' "$*"; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# Set-up steps write their tools' output (apt, dpkg, initdb, pg_ctl, go install) here and
# print one line each; a failure prints this path and the log's tail.
PARLEY_SETUP_LOG="$PARLEY_DATA/setup.log"

# step SUMMARY COMMAND...: runs COMMAND with its output appended to the set-up log and prints
# "==> SUMMARY ... done (Ns)"; on failure, the log's last lines and its path, then exits.
step() {
	local summary="$1" start=$SECONDS rc=0
	shift
	mkdir -p "$PARLEY_DATA"
	printf '\n=== %s %s\n$ %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$summary" "$*" >>"$PARLEY_SETUP_LOG"
	printf '==> %s ... ' "$summary"
	"$@" >>"$PARLEY_SETUP_LOG" 2>&1 </dev/null || rc=$?
	if ((rc == 0)); then
		printf 'done (%ds)\n' $((SECONDS - start))
		return 0
	fi
	printf 'failed (exit %d)\n' "$rc"
	printf -- '--- the last 30 lines of %s:\n' "$PARLEY_SETUP_LOG" >&2
	tail -n 30 "$PARLEY_SETUP_LOG" >&2
	printf -- '---\n' >&2
	die "$summary failed; the whole output is in $PARLEY_SETUP_LOG"
}

# The session secret must survive restarts (or every login is lost), so generate it once
# and keep it in .data/session-secret, readable by the owner only.
if [[ -z "${PARLEY_SESSION_SECRET:-}" ]]; then
	if [[ ! -s "$PARLEY_DATA/session-secret" ]]; then
		mkdir -p "$PARLEY_DATA"
		(umask 077 && head -c 48 /dev/urandom | base64 -w0 >"$PARLEY_DATA/session-secret")
	fi
	PARLEY_SESSION_SECRET="$(cat "$PARLEY_DATA/session-secret")"
	export PARLEY_SESSION_SECRET
fi

# --- URL helpers: scheme://[user[:pass]@]host[:port][/path][?query] -------------------

# url_authority URL -> host[:port] (userinfo, path and query stripped)
url_authority() {
	local rest="${1#*://}"
	rest="${rest%%[/?]*}"
	printf '%s' "${rest##*@}"
}
url_host() {
	local a
	a="$(url_authority "$1")"
	if [[ "$a" == \[* ]]; then # [::1]:5432
		a="${a#\[}"
		printf '%s' "${a%%\]*}"
	else
		printf '%s' "${a%%:*}"
	fi
}
# url_port URL DEFAULT
url_port() {
	local a
	a="$(url_authority "$1")"
	a="${a##*\]}"
	if [[ "$a" == *:* ]]; then printf '%s' "${a##*:}"; else printf '%s' "$2"; fi
}
# url_user URL DEFAULT
url_user() {
	local rest="${1#*://}"
	rest="${rest%%[/?]*}"
	if [[ "$rest" == *@* ]]; then
		rest="${rest%@*}"
		printf '%s' "${rest%%:*}"
	else
		printf '%s' "$2"
	fi
}
# url_with_port URL PORT -> the same URL with another port
url_with_port() {
	local scheme="${1%%://*}" rest="${1#*://}" auth tail="" user=""
	auth="${rest%%[/?]*}"
	tail="${rest:${#auth}}"
	if [[ "$auth" == *@* ]]; then
		user="${auth%@*}@"
		auth="${auth##*@}"
	fi
	local host
	host="$(url_host "$1")"
	[[ "$host" == *:* ]] && host="[$host]"
	printf '%s://%s%s:%s%s' "$scheme" "$user" "$host" "$2" "$tail"
}
# url_dbname URL -> the path without its slash (the database name)
url_dbname() {
	local rest="${1#*://}"
	rest="${rest%%\?*}"
	if [[ "$rest" == */* ]]; then printf '%s' "${rest#*/}"; fi
}
# url_with_db URL NAME -> the same URL pointing at another database
url_with_db() {
	local base="${1%%\?*}" query=""
	[[ "$1" == *\?* ]] && query="?${1#*\?}"
	local rest="${base#*://}"
	if [[ "$rest" == */* ]]; then base="${base%/*}"; fi
	printf '%s/%s%s' "$base" "$2" "$query"
}
is_loopback() {
	case "$1" in
	127.* | localhost | ::1) return 0 ;;
	*) return 1 ;;
	esac
}

# A live process (a zombie left by a crash is not).
proc_alive() {
	[[ -r "/proc/$1/stat" ]] || return 1
	local st
	st="$(sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f1)"
	[[ "$st" != Z ]]
}

# --- private instance locations -------------------------------------------------------

# PostgreSQL must run as the postgres user when we are root; if that user cannot reach the
# project directory (a clone under /root with mode 700), the cluster lives in /var/tmp.
pg_fallback_dir() {
	local h
	h="$(printf '%s' "$PARLEY_ROOT" | sha256sum | cut -c1-8)"
	printf '/var/tmp/parley-%s/pg' "$h"
}

# The highest installed PostgreSQL's bin directory (Debian keeps initdb/pg_ctl off PATH).
pg_bindir() {
	local d
	d="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null |
		sort -t/ -k5,5n | tail -n1)"
	if [[ -n "$d" && -x "$d/pg_ctl" ]]; then
		printf '%s' "$d"
	elif command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(command -v pg_ctl)"
	fi
}
