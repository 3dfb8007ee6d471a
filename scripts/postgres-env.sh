#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the App's tests, from Debian's
# packages, listening on 127.0.0.1 with its data and socket under /tmp, and
# exports STAGELINE_TEST_POSTGRES_URL. Idempotent: a server already running
# on the port is reused.
#
#   source scripts/postgres-env.sh        # exports the URL into this shell
#   eval "$(scripts/postgres-env.sh)"     # same, from a subshell
# Sourced: run in a child so that set -e does not leak into the caller.
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
	eval "$(bash "${BASH_SOURCE[0]}")"
	return
fi
set -euo pipefail

pg_dir=${STAGELINE_PG_DIR:-/tmp/stageline-pg}
pg_port=${STAGELINE_PG_PORT:-55432}
pg_db=stageline_test

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }

if [ -z "$(pg_bin)" ]; then
	echo "postgres-env: installing postgresql from Debian" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq postgresql >&2
fi
bin=$(pg_bin)

as_postgres() {
	if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; then
	mkdir -p "$pg_dir"
	chown postgres:postgres "$pg_dir" 2>/dev/null || true
	if [ ! -f "$pg_dir/data/PG_VERSION" ]; then
		as_postgres "$bin/initdb" -D "$pg_dir/data" -A trust -U postgres >/dev/null
	fi
	# fsync off: the data is disposable and the tests measure the App, not
	# the disk.
	as_postgres "$bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
		-o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2
fi

if ! "$bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$pg_db'" | grep -q 1; then
	"$bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE $pg_db" >&2
fi

url="postgres://postgres@127.0.0.1:$pg_port/$pg_db?sslmode=disable"
export STAGELINE_TEST_POSTGRES_URL=$url
echo "export STAGELINE_TEST_POSTGRES_URL='$url'"
