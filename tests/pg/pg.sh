#!/bin/sh
# pg.sh start DIR [PORT] | stop DIR: a throwaway PostgreSQL server for the
# tests, its data and its unix socket in DIR, no TCP at all (listen_addresses
# empty), trust authentication, fsync off.  start prints a conninfo on
# stdout (host=DIR dbname=postgres user=...).  With PORT (bench_store's),
# it listens on 127.0.0.1:PORT too, as a node reaches its database, with
# the server's default durability, and the conninfo names that.  stop
# stops the server
# (immediate shutdown) and removes DIR; pause stops it and keeps DIR (an
# outage), resume starts it again.  As root the server runs as user
# postgres, which PostgreSQL requires.  Every wait is bounded.
set -u
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || {
	echo "usage: pg.sh start DIR [PORT] | stop|pause|resume DIR" >&2
	exit 2
}
port=${3:-}

# initdb and pg_ctl: on PATH, or in Debian's versioned directory.
bindir=""
if ! command -v initdb >/dev/null 2>&1; then
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && bindir="$d/"
	done
	[ -n "$bindir" ] || {
		echo "pg.sh: initdb not found (make deps installs postgresql)" >&2
		exit 1
	}
fi

# Runs a command as the server's user: postgres when we are root.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		if command -v runuser >/dev/null 2>&1; then
			runuser -u postgres -- "$@"
		else
			setpriv --reuid=postgres --regid=postgres --init-groups \
			    -- "$@"
		fi
	else
		"$@"
	fi
}

case $cmd in
start)
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 || {
			echo "pg.sh: running as root, and no user postgres" >&2
			exit 1
		}
		user=postgres
	else
		user=$(id -un)
	fi
	mkdir -p "$dir" || exit 1
	dir=$(cd "$dir" && pwd)
	# The server's user must reach DIR and own its data directory.
	[ "$(id -u)" -eq 0 ] && { chown postgres "$dir"; chmod 755 "$dir"; }
	log="$dir/initdb.log"
	as_owner "${bindir}initdb" -D "$dir/data" -U "$user" -A trust \
	    -E UTF8 --locale=C --no-sync >"$log" 2>&1 || {
		echo "pg.sh: initdb failed:" >&2
		tail -n 20 "$log" >&2
		exit 1
	}
	if [ -n "$port" ]; then
		cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
CONF
	else
		cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
CONF
	fi
	# -w waits for the server to accept connections, -t bounds it.
	as_owner "${bindir}pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
	    -t 30 start >"$dir/pg_ctl.log" 2>&1 || {
		echo "pg.sh: the server did not start within 30 s:" >&2
		tail -n 20 "$dir/server.log" >&2
		exit 1
	}
	if [ -n "$port" ]; then
		echo "host=127.0.0.1 port=$port dbname=postgres user=$user"
	else
		echo "host=$dir dbname=postgres user=$user"
	fi
	;;
stop)
	[ -d "$dir" ] || exit 0
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_owner "${bindir}pg_ctl" -D "$dir/data" -m immediate -w -t 30 \
		    stop >/dev/null 2>&1 || echo "pg.sh: the server in $dir" \
		    "did not stop" >&2
	fi
	rm -rf "$dir"
	;;
pause)
	# An outage: the server goes, ending every connection, and its data
	# stays for resume.  A fast shutdown writes what was committed
	# (synchronous_commit is off: an immediate one could lose it).
	as_owner "${bindir}pg_ctl" -D "$dir/data" -m fast -w -t 30 \
	    stop >/dev/null 2>&1 || {
		echo "pg.sh: the server in $dir did not stop" >&2
		exit 1
	}
	;;
resume)
	as_owner "${bindir}pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
	    -t 30 start >"$dir/pg_ctl.log" 2>&1 || {
		echo "pg.sh: the server did not start again within 30 s:" >&2
		tail -n 20 "$dir/server.log" >&2
		exit 1
	}
	;;
*)
	echo "usage: pg.sh start DIR [PORT] | stop|pause|resume DIR" >&2
	exit 2
	;;
esac
