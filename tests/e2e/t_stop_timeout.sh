# A worker that ignores its stop signal is killed with SIGKILL once
# stop_timeout has passed, its exit is classified 'stopped', and corrald
# still exits 0 with nothing left behind.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:stubborn]
command = $TW ignore-term
healthy_after = 100ms
stop_timeout = 700ms
stdout = file
EOF2
start_corrald
wait_log 'agent stubborn.0: STARTING -> RUNNING'
"$WAITLOG" "$T/log/stubborn.0.stdout.log" 'ignoring SIGTERM' 1 10000 ||
    fail "worker did not start ignoring SIGTERM"
pid=$(q "SELECT pid FROM events WHERE kind='spawn' AND agent='stubborn'")
STRAYS=$pid
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
grep -q "agent stubborn.0 (pid $pid): still running 700ms after TERM; sending KILL" "$LOG" ||
    fail "no KILL escalation in the log"
pids_gone 5 "$pid" || fail "worker $pid still there"
assert_eq "$(q "SELECT class || '|' || signal FROM events WHERE kind='exit'")" "stopped|9" "exit event"
run=$(q "SELECT run_ms FROM events WHERE kind='exit'")
stopping=$(q "SELECT time_ms FROM events WHERE kind='state' AND state='STOPPING'")
ended=$(q "SELECT time_ms FROM events WHERE kind='exit'")
[ $((ended - stopping)) -ge 695 ] || fail "killed $((ended - stopping))ms after the stop, before stop_timeout"
