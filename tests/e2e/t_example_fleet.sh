# The example fleet of 'make run' (etc/fleet.ini) starts, its agents run,
# and SIGINT (Ctrl-C) stops everything: exit 0, no process left.
. "$(dirname "$0")/lib.sh"

PATH="$BUILD/examples:$PATH" "$CORRALD" -c "$TOP/etc/fleet.ini" >"$LOG" 2>&1 &
CPID=$!
DB="$T/corral-state.db"
wait_log 'agent planner.0: STARTING -> RUNNING' 1 30
wait_log 'agent researcher.[0-2]: STARTING -> RUNNING' 3 30
wait_log '\[researcher.1\] step [0-9]+ done'
pids=$(descendants "$CPID")
STRAYS=$pids
[ -n "$pids" ] || fail "no workers"
stop_corrald INT
assert_eq "$CRC" 0 "corrald exit status after SIGINT"
pids_gone 5 $pids || fail "processes left after Ctrl-C"
grep -q 'all workers stopped' "$LOG" || fail "no orderly stop"
