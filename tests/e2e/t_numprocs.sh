# numprocs = 200 starts 200 instances, %(instance) expands per instance, and
# all of them reach RUNNING, none before healthy_after (spawned in batches,
# a slow batch must not shorten the later ones' wait).
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:many]
command = $TW sleep
numprocs = 200
healthy_after = 300ms
env = SLOT=%(instance)
stdout = null
stderr = null
EOF2
start_corrald
wait_log 'agent many\.[0-9]+: STARTING -> RUNNING' 200 60
# The expansion reached the environment of instance 123.
pid=$(q "SELECT pid FROM events WHERE kind='spawn' AND instance=123")
tr '\0' '\n' <"/proc/$pid/environ" | grep -qx 'SLOT=123' || fail "env SLOT of instance 123"
tr '\0' '\n' <"/proc/$pid/environ" | grep -qx 'CORRAL_INSTANCE=123' || fail "CORRAL_INSTANCE"
pids=$(q "SELECT pid FROM events WHERE kind='spawn'")
STRAYS=$pids
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
pids_gone 10 $pids || fail "workers left after shutdown"
assert_eq "$(q "SELECT count(DISTINCT instance) FROM events WHERE kind='state' AND state='RUNNING'")" 200 "instances RUNNING"
assert_eq "$(q "SELECT count(*) FROM events r JOIN events s ON s.kind='spawn'
    AND s.instance = r.instance WHERE r.kind='state' AND r.state='RUNNING'
    AND r.time_ms - s.time_ms < 299")" 0 "instances RUNNING before healthy_after"
assert_eq "$(q "SELECT min(instance) || '-' || max(instance) FROM events WHERE kind='spawn'")" "0-199" "instance numbers"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='exit' AND class='stopped'")" 200 "stopped exits"
