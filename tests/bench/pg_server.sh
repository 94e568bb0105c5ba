#!/bin/sh
# pg_server.sh start DIR PORT | stop DIR: bench_store's PostgreSQL server,
# its data in DIR, listening on 127.0.0.1:PORT only (TCP on loopback,
# as a node reaches its database, less the network), with the server's
# default durability (fsync and synchronous_commit on: bench_store turns
# synchronous_commit off per connection for its second figure).  start
# prints a conninfo; stop stops the server and removes DIR.  As root the
# server runs as user postgres.  Every wait is bounded.
set -u
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || {
	echo "usage: pg_server.sh start DIR PORT | stop DIR" >&2
	exit 2
}
bindir=""
if ! command -v initdb >/dev/null 2>&1; then
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && bindir="$d/"
	done
	[ -n "$bindir" ] || { echo "pg_server.sh: no initdb" >&2; exit 1; }
fi
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}
case $cmd in
start)
	port=${3:?a port}
	user=$(id -un)
	[ "$(id -u)" -eq 0 ] && user=postgres
	mkdir -p "$dir" && dir=$(cd "$dir" && pwd) || exit 1
	[ "$(id -u)" -eq 0 ] && { chown postgres "$dir"; chmod 755 "$dir"; }
	as_owner "${bindir}initdb" -D "$dir/data" -U "$user" -A trust \
	    -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
		echo "pg_server.sh: initdb failed:" >&2
		tail -n 20 "$dir/initdb.log" >&2
		exit 1
	}
	cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
CONF
	as_owner "${bindir}pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
	    -t 30 start >"$dir/pg_ctl.log" 2>&1 || {
		echo "pg_server.sh: the server did not start within 30 s:" >&2
		tail -n 20 "$dir/server.log" >&2
		exit 1
	}
	echo "host=127.0.0.1 port=$port dbname=postgres user=$user"
	;;
stop)
	[ -d "$dir" ] || exit 0
	[ -f "$dir/data/postmaster.pid" ] &&
	    as_owner "${bindir}pg_ctl" -D "$dir/data" -m fast -w -t 30 stop \
	    >/dev/null 2>&1
	rm -rf "$dir"
	;;
*)
	echo "usage: pg_server.sh start DIR PORT | stop DIR" >&2
	exit 2
	;;
esac
