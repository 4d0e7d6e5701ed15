#!/usr/bin/env bash
# Makes PostgreSQL and Redis reachable at the configured URLs and creates the database.
#
# A server already answering at a URL is reused as it is. Only when nothing answers, and the
# URL points at this machine, a private instance is started on loopback with its data under
# .data/ (see `make stop`). Safe to run again and again.
#
#   scripts/services.sh run    PARLEY_DATABASE_URL and PARLEY_REDIS_URL
#   scripts/services.sh test   PARLEY_TEST_DATABASE_URL and PARLEY_TEST_REDIS_URL
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

export PGCONNECT_TIMEOUT=5
WAIT_SECONDS=30

is_root() { [[ "$(id -u)" == 0 ]]; }

# PostgreSQL refuses to run as root: as root, its tools run as the postgres user (from /,
# since our working directory may be unreadable to that user).
as_pg_owner() {
	if is_root; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# pg_state HOST PORT -> 0 accepting, 1 starting/rejecting, 2 nothing answers
pg_state() {
	local rc=0
	pg_isready -q -h "$1" -p "$2" -t 3 || rc=$?
	case "$rc" in
	0) return 0 ;;
	1) return 1 ;;
	*) return 2 ;;
	esac
}

wait_pg() { # HOST PORT
	local i
	for ((i = 0; i < WAIT_SECONDS * 2; i++)); do
		pg_isready -q -h "$1" -p "$2" -t 1 && return 0
		sleep 0.5
	done
	return 1
}

# Where the private cluster lives: .data/pg, unless the postgres user cannot reach it.
pg_private_dir() {
	mkdir -p "$PARLEY_DATA"
	if ! is_root || runuser -u postgres -- test -x "$PARLEY_DATA" 2>/dev/null; then
		printf '%s' "$PARLEY_DATA/pg"
	else
		pg_fallback_dir
	fi
}

start_private_pg() { # PORT
	local port="$1" bindir pgdata
	bindir="$(pg_bindir)"
	[[ -n "$bindir" ]] || die "PostgreSQL server binaries not found (run scripts/deps.sh)"
	is_root && ! id postgres >/dev/null 2>&1 && die "running as root but there is no postgres user"
	pgdata="$(pg_private_dir)"
	if [[ "$pgdata" != "$PARLEY_DATA/pg" ]]; then
		say "the postgres user cannot enter $PARLEY_DATA; PostgreSQL data goes to $pgdata"
	fi

	# Our cluster already up, but on another port? Refuse rather than guess.
	local pm_pid
	pm_pid="$(sed -n 1p "$pgdata/postmaster.pid" 2>/dev/null || true)"
	if [[ -n "$pm_pid" ]] && proc_alive "$pm_pid"; then
		local running_port
		running_port="$(sed -n 4p "$pgdata/postmaster.pid")"
		if [[ "$running_port" != "$port" ]]; then
			die "the private PostgreSQL in $pgdata runs on port $running_port, not $port: run 'make stop' first"
		fi
		say "private PostgreSQL in $pgdata is starting; waiting"
		return 0
	fi

	if [[ ! -s "$pgdata/PG_VERSION" ]]; then
		mkdir -p "$pgdata"
		if is_root; then
			chown postgres:postgres "$pgdata"
			# The fallback's parent is ours; keep it enterable so postgres reaches its dir.
			chmod 755 "$(dirname "$pgdata")"
		fi
		chmod 700 "$pgdata"
		local locale=(--no-locale)
		# C.UTF-8 keeps byte-order sorting but gives lower()/ILIKE real Unicode case rules.
		if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale=(--locale=C.UTF-8); fi
		step "initialising a private PostgreSQL cluster in $pgdata (initdb)" \
			as_pg_owner "$bindir/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 "${locale[@]}"
		# Loopback TCP only, no Unix socket (nothing to clash with a system cluster's socket).
		cat >>"$pgdata/postgresql.conf" <<-'EOF'

			# parley: private development instance
			listen_addresses = '127.0.0.1'
			unix_socket_directories = ''
			max_connections = 200
		EOF
		printf '%s\n' '# parley: trust, loopback TCP only' 'host all all 127.0.0.1/32 trust' >"$pgdata/pg_hba.conf"
	fi

	step "starting private PostgreSQL in $pgdata on 127.0.0.1:$port" pg_start "$bindir" "$pgdata" "$port"
}

# pg_start BINDIR PGDATA PORT (its output goes to the set-up log)
pg_start() {
	# After a crash (kill -9) the old postmaster or its backends may linger a few seconds and
	# the new one refuses to start while they hold the data directory: retry for a while.
	local try
	for try in 1 2 3 4 5 6; do
		if as_pg_owner "$1/pg_ctl" -D "$2" -l "$2/server.log" -o "-p $3" -w -t "$WAIT_SECONDS" start; then
			return 0
		fi
		((try < 6)) && sleep 5
	done
	tail -n 20 "$2/server.log" || true
	echo "PostgreSQL did not start (its log: $2/server.log)"
	return 1
}

# " (the private one in DIR)" when the server on PORT is the cluster we started.
pg_ours() {
	local d
	for d in "$PARLEY_DATA/pg" "$(pg_fallback_dir)"; do
		if [[ "$(sed -n 4p "$d/postmaster.pid" 2>/dev/null)" == "$1" ]]; then
			printf ' (the private one in %s)' "$d"
			return 0
		fi
	done
}

# Create the URL's role in our own cluster when it is not the superuser we made.
ensure_private_role() { # PORT USER
	[[ "$2" == postgres ]] && return 0
	local admin="postgres://postgres@127.0.0.1:$1/postgres?sslmode=disable"
	if [[ -z "$(psql -w "$admin" -XtAc "SELECT 1 FROM pg_roles WHERE rolname = '$2'")" ]]; then
		say "creating role $2 in the private PostgreSQL"
		psql -w "$admin" -Xq -c "CREATE ROLE \"$2\" LOGIN SUPERUSER"
	fi
}

# pg_auth_refused MESSAGE: psql failed because the server wants a password (or refuses the user).
pg_auth_refused() {
	[[ "$1" == *"no password supplied"* || "$1" == *"password authentication failed"* ||
		"$1" == *"pg_hba.conf"* || "$1" == *"peer authentication failed"* ]]
}

# free_pg_port: the first port from 5433 on where nothing listens on loopback.
free_pg_port() {
	local p
	for ((p = 5433; p < 5533; p++)); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			printf '%s' "$p"
			return 0
		fi
	done
	return 1
}

# The server on our default port wants a password: typically Debian's own cluster, which
# installing the postgresql package starts (under systemd) on 5432 with scram-sha-256 over
# TCP. Rather than change that cluster's roles or pg_hba.conf, run a private cluster under
# .data/ (trust, loopback only) on a free port and record its URL in .data/database-url,
# which env.sh reads from then on.
use_private_pg_instead() { # URL MESSAGE -> sets NEW_URL
	local host port new_port
	host="$(url_host "$1")"
	port="$(url_port "$1" 5432)"
	new_port="$(free_pg_port)" || die "no free port for a private PostgreSQL"
	say "PostgreSQL on $host:$port wants a password (${2%%$'\n'*})"
	say "so Parley runs its own private cluster under .data/ on 127.0.0.1:$new_port, leaving that server alone; .data/database-url records its URL (delete it, or set PARLEY_DATABASE_URL, to go back)"
	start_private_pg "$new_port"
	wait_pg 127.0.0.1 "$new_port" || die "PostgreSQL on 127.0.0.1:$new_port did not become ready within ${WAIT_SECONDS}s"
	url_with_port "$PARLEY_DATABASE_URL" "$new_port" >"$PARLEY_DATA/database-url"
	NEW_URL="$(url_with_port "$1" "$new_port")"
}

ensure_postgres() { # URL DEFAULTED: DEFAULTED non-empty when the URL is env.sh's default
	local url="$1" defaulted="${2:-}" host port user db state=0
	host="$(url_host "$url")"
	port="$(url_port "$url" 5432)"
	user="$(url_user "$url" postgres)"
	db="$(url_dbname "$url")"
	[[ -n "$host" ]] || die "no host in the PostgreSQL URL"

	pg_state "$host" "$port" || state=$?
	case "$state" in
	0) say "PostgreSQL answers on $host:$port: reusing it$(pg_ours "$port")" ;;
	1)
		say "PostgreSQL on $host:$port is starting; waiting"
		;;
	2)
		is_loopback "$host" || die "no PostgreSQL answers on $host:$port (not this machine, so not starting one)"
		start_private_pg "$port"
		;;
	esac
	wait_pg "$host" "$port" || die "PostgreSQL on $host:$port did not become ready within ${WAIT_SECONDS}s"
	if is_loopback "$host" && [[ -n "$(pg_ours "$port")" ]]; then
		ensure_private_role "$port" "$user"
	fi

	[[ -z "$db" || "$db" =~ ^[A-Za-z0-9_-]+$ ]] || die "unexpected database name '$db'"
	local maint exists
	maint="$(url_with_db "$url" postgres)"
	if ! exists="$(psql -w "$maint" -XtAc "SELECT 1 FROM pg_database WHERE datname = '${db:-postgres}'" 2>&1)"; then
		if [[ -n "$defaulted" ]] && is_loopback "$host" && pg_auth_refused "$exists"; then
			use_private_pg_instead "$url" "$exists"
			ensure_postgres "$NEW_URL" ""
			return
		fi
		printf '%s\n' "$exists" >&2
		die "PostgreSQL on $host:$port refuses the URL's user '$user' (set PARLEY_DATABASE_URL / PARLEY_TEST_DATABASE_URL)"
	fi
	[[ -n "$db" ]] || return 0
	if [[ -z "$exists" ]]; then
		say "creating database $db on $host:$port"
		psql -w "$maint" -Xq -c "CREATE DATABASE \"$db\""
	fi
}

# redis_state URL -> 0 answers PONG, 2 nothing listens; anything else is fatal.
redis_state() {
	local out
	out="$(redis-cli -u "$1" ping 2>&1 || true)"
	case "$out" in
	PONG) return 0 ;;
	*"Could not connect"* | *"Connection refused"*) return 2 ;;
	*) die "Redis at $(url_authority "$1") answers but not as expected: $out" ;;
	esac
}

wait_redis() { # URL
	local i
	for ((i = 0; i < WAIT_SECONDS * 5; i++)); do
		[[ "$(redis-cli -u "$1" ping 2>/dev/null || true)" == PONG ]] && return 0
		sleep 0.2
	done
	return 1
}

ensure_redis() { # URL
	local url="$1" host port state=0
	host="$(url_host "$url")"
	port="$(url_port "$url" 6379)"
	redis_state "$url" || state=$?
	if ((state == 0)); then
		local ours=""
		[[ "$(redis-cli -u "$url" config get pidfile 2>/dev/null | tail -n1)" == "$PARLEY_DATA/redis/redis.pid" ]] &&
			ours=" (the private one in .data/redis)"
		say "Redis answers on $host:$port: reusing it$ours"
		return 0
	fi
	is_loopback "$host" || die "no Redis answers on $host:$port (not this machine, so not starting one)"

	local dir="$PARLEY_DATA/redis"
	mkdir -p "$dir"
	local pid
	pid="$(cat "$dir/redis.pid" 2>/dev/null || true)"
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && grep -q redis-server "/proc/$pid/cmdline" 2>/dev/null; then
		die "the private Redis (pid $pid, $dir) runs but does not answer on $host:$port: run 'make stop' first"
	fi
	step "starting private Redis in ${dir#"$PARLEY_ROOT"/} on 127.0.0.1:$port" redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes \
		--pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" --appendonly no
	if ! wait_redis "$url"; then
		tail -n 20 "$dir/redis.log" >&2 || true
		die "Redis did not answer on $host:$port within ${WAIT_SECONDS}s"
	fi
}

case "${1:-run}" in
run)
	ensure_postgres "$PARLEY_DATABASE_URL" "${PARLEY_DATABASE_URL_DEFAULT:-}"
	ensure_redis "$PARLEY_REDIS_URL"
	;;
test)
	ensure_postgres "$PARLEY_TEST_DATABASE_URL" "${PARLEY_TEST_DATABASE_URL_DEFAULT:-}"
	ensure_redis "$PARLEY_TEST_REDIS_URL"
	mkdir -p "$PARLEY_TEST_OUTPUT"
	;;
*) die "usage: $0 run|test" ;;
esac
