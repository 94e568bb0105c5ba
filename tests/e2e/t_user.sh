# user = NAME (corrald running as root) runs the worker as that user, with
# that user's group; its log files are still written by corrald.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root"
	exit 0
fi
uid=$(id -u nobody) || fail "no user nobody"
gid=$(id -g nobody)
conf <<EOF2
[agent:unpriv]
command = $TW sleep
user = nobody
healthy_after = 100ms
EOF2
start_corrald
wait_log 'agent unpriv.0: STARTING -> RUNNING'
pid=$(q "SELECT pid FROM events WHERE kind='spawn'")
STRAYS=$pid
assert_eq "$(sed -n 's/^Uid:\s*\([0-9]*\).*/\1/p' /proc/$pid/status)" "$uid" "worker uid"
assert_eq "$(sed -n 's/^Gid:\s*\([0-9]*\).*/\1/p' /proc/$pid/status)" "$gid" "worker gid"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
pids_gone 5 "$pid" || fail "worker left"
