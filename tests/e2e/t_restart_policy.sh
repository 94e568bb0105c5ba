# restart = on-failure does not restart a clean exit but restarts a failing
# one; restart = never restarts nothing; restart = always restarts a clean
# exit too, after one backoff step when the run was short.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[defaults]
backoff_initial = 100ms
backoff_max = 100ms
healthy_after = 2s

[agent:clean]
command = $TW exit 0
restart = on-failure

[agent:failing]
command = $TW exit 3
restart = on-failure

[agent:once]
command = $TW exit 3
restart = never

[agent:again]
command = $TW exit 0
restart = always
EOF2
start_corrald
wait_log 'agent clean.0: STARTING -> EXITED'
wait_log 'agent once.0: STARTING -> EXITED'
wait_log 'agent failing.0: BACKOFF -> STARTING' 3
wait_log 'agent again.0: BACKOFF -> STARTING' 3
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

spawns() { q "SELECT count(*) FROM events WHERE kind='spawn' AND agent='$1'"; }
assert_eq "$(spawns clean)" 1 "spawns of clean (on-failure, exit 0)"
assert_eq "$(spawns once)" 1 "spawns of once (never, exit 3)"
[ "$(spawns failing)" -ge 4 ] || fail "failing was not restarted"
[ "$(spawns again)" -ge 4 ] || fail "again (always, exit 0) was not restarted"
assert_eq "$(q "SELECT DISTINCT class FROM events WHERE kind='exit' AND agent='clean'")" success "class of a clean exit"
assert_eq "$(q "SELECT DISTINCT class FROM events WHERE kind='exit' AND agent='failing' AND class != 'stopped'")" error "class of exit 3"
# Clean exits are no failures: no chain, no failure flag.
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='exit' AND agent='again' AND (chain IS NOT NULL OR start_failure IS NOT NULL)")" 0 "clean exits in a chain"
# ... but the short clean runs were throttled by a backoff step (>= 75 ms).
min=$(q "SELECT min((SELECT min(s.time_ms) FROM events s WHERE s.kind='spawn' AND s.agent='again' AND s.id > e.id) - e.time_ms) FROM events e WHERE e.kind='exit' AND e.agent='again' AND e.class='success'")
[ "$min" -ge 73 ] || fail "a short clean run restarted after ${min}ms, expected a backoff step"
