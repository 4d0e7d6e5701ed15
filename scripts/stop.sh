#!/usr/bin/env bash
# Stops the private PostgreSQL and Redis that scripts/services.sh started for this checkout,
# found by their data directories and pid files. Servers it did not start are never touched.
# The data stays; delete .data/ (and the /var/tmp fallback, if one was used) to start afresh.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

stopped=0

# PostgreSQL: .data/pg, or the /var/tmp fallback used when postgres could not enter .data.
for pgdata in "$PARLEY_DATA/pg" "$(pg_fallback_dir)"; do
	[[ -f "$pgdata/postmaster.pid" ]] || continue
	bindir="$(pg_bindir)"
	[[ -n "$bindir" ]] || die "pg_ctl not found; cannot stop the PostgreSQL in $pgdata"
	pg_ctl=("$bindir/pg_ctl" -D "$pgdata")
	if [[ "$(id -u)" == 0 ]]; then # as the cluster's owner, from / (see services.sh)
		pg_ctl=(runuser -u "$(stat -c %U "$pgdata")" -- "${pg_ctl[@]}")
	fi
	proc_alive "$(sed -n 1p "$pgdata/postmaster.pid")" || continue # stale pid file
	say "stopping private PostgreSQL in $pgdata"
	(cd / && "${pg_ctl[@]}" -m fast -w stop >/dev/null)
	stopped=1
done

# Redis: the pid file it wrote; check the pid still belongs to a redis-server before killing.
pidfile="$PARLEY_DATA/redis/redis.pid"
if [[ -f "$pidfile" ]]; then
	pid="$(cat "$pidfile")"
	if [[ -n "$pid" ]] && proc_alive "$pid" && grep -q redis-server "/proc/$pid/cmdline" 2>/dev/null; then
		say "stopping private Redis (pid $pid)"
		kill "$pid"
		for ((i = 0; i < 100; i++)); do # up to 10s for a clean shutdown
			proc_alive "$pid" || break
			sleep 0.1
		done
		proc_alive "$pid" && die "Redis (pid $pid) did not stop"
		stopped=1
	fi
	rm -f "$pidfile"
fi

((stopped)) || say "no private PostgreSQL or Redis is running for this checkout"
