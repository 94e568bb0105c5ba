# The example fleet of 'make run' (etc/fleet.ini) starts, its agents run,
# the crash-looping one is restarted after the spec's first backoff step
# (2 s +-25 %), and SIGINT (Ctrl-C) stops everything: exit 0, no process
# left.
# e2e: alone (tests/run.sh): it times something, loads the machine or builds in the tree.
. "$(dirname "$0")/lib.sh"

PATH="$BUILD/examples:$PATH" "$CORRALD" -c "$TOP/etc/fleet.ini" >"$LOG" 2>&1 &
CPID=$!
DB="$T/corral-state.db"
wait_log 'STOPPED -> STARTING' 6
wait_log '\[unstable.0\] unstable.0: starting'
# The others' steps go to their log files, not to the terminal.
"$WAITLOG" "$T/log/researcher.1.stdout.log" 'step [0-9]+ done' 1 10000 ||
    fail "no researcher step in its log file"
grep -q '^\[researcher.*done$' "$LOG" && fail "researcher steps on the terminal"
wait_log 'agent unstable.0: (STARTING|RUNNING) -> BACKOFF: failed; restart in' 1 30
wait_log 'agent unstable.0: BACKOFF -> STARTING' 1 10
pids=$(descendants "$CPID")
STRAYS=$pids
[ -n "$pids" ] || fail "no workers"
stop_corrald INT
assert_eq "$CRC" 0 "corrald exit status after SIGINT"
pids_gone 5 $pids || fail "processes left after Ctrl-C"
grep -q 'all workers stopped' "$LOG" || fail "no orderly stop"
# Events are written at the end of a loop turn: read them once corrald is done.
d=$(q "SELECT s.time_ms - e.time_ms FROM events e JOIN events s ON s.kind='spawn'
    AND s.agent='unstable' AND s.restarts=1 WHERE e.kind='exit' AND e.agent='unstable'
    ORDER BY e.id LIMIT 1")
[ "$d" -ge 1498 ] && [ "$d" -le 2650 ] || fail "first restart of unstable after ${d}ms, expected 2s +-25%"
