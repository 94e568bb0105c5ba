# SIGTERM to corrald stops every worker, running or in backoff, with its
# stop signal, and corrald exits 0 leaving no worker, grandchild, zombie
# or watcher.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[defaults]
healthy_after = 100ms

[agent:sleeper]
command = $TW sleep
numprocs = 5

[agent:crasher]
command = $TW -d 50 exit 1
# Its death is a start failure however slow a loaded machine makes it.
healthy_after = 10s
backoff_initial = 30s
backoff_max = 30s

[agent:family]
command = $TW escape $T/esc.%(instance).pid
numprocs = 2
EOF2
start_corrald
wait_log 'agent sleeper\.[0-9]: STARTING -> RUNNING' 5
wait_log 'agent family\.[0-9]: STARTING -> RUNNING' 2
wait_log 'agent crasher.0: STARTING -> BACKOFF'
pids="$(descendants "$CPID")"
STRAYS=$pids
n=$(echo $pids | wc -w)
[ "$n" -eq 10 ] || fail "expected 7 workers, 2 escaped grandchildren and the watcher, got $n: $pids"
stop_corrald TERM
assert_eq "$CRC" 0 "corrald exit status"
pids_gone 5 $pids || fail "processes left after corrald exited"
grep -q 'agent crasher.0: BACKOFF -> STOPPED' "$LOG" || fail "backoff not cancelled"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='exit' AND class='stopped'")" 7 "stopped exits"
assert_eq "$(q "SELECT group_concat(state) FROM events WHERE kind='daemon'")" "start,stop" "daemon events"
