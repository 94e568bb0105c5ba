# A full disk under the state database (the LD_PRELOAD shim libfault makes
# its writes fail with ENOSPC, in corrald only): corrald goes on
# supervising; it says so once in its log, in status, status --json and
# /metrics; an operator's stop is taken; events and state wait in memory,
# and when space comes back every one of them is written: none lost.
# Before: the condition showed nowhere but the log, and the stop was
# refused as "could not be recorded".
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:a]
command = $TW sleep
numprocs = 3
healthy_after = 100ms

[agent:b]
command = $TW sleep
healthy_after = 100ms
EOF2
sed -i 's/^\[corrald\]$/[corrald]\nhttp_listen = 127.0.0.1:0/' "$T/corral.ini"
start_faulty ENOSPC write,sync,truncate
wait_log 'agent a\.[0-9]: STARTING -> RUNNING' 3
wait_log 'agent b\.0: STARTING -> RUNNING'
port=$(sed -n 's/.*serving \/metrics and \/status on 127.0.0.1:\([0-9]*\).*/\1/p' "$LOG")
metric() {
	"$PY" -c "import urllib.request,sys; print(urllib.request.urlopen('http://127.0.0.1:$port/metrics').read().decode())" |
	    sed -n "s/^$1 //p"
}

touch "$FAULT_SW"
ctl restart a >/dev/null || fail "restart a while the disk is full"
# status shows it (within 10 s: the write fails at the end of a turn).
i=0
until st=$(ctl status) && echo "$st" | grep -q '^STATE DB  full since .*wait in memory; retrying'; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "status never said the disk is full: $st"
	sleep 0.1
done
wait_log 'state database .* is full \(.*disk is full.*\): supervision goes on'
cond=$(ctl status --json | json_get 'j["state_db"]["condition"]')
assert_eq "$cond" "full" "status --json state_db.condition"
assert_eq "$(metric corral_state_db_ok)" "0" "corral_state_db_ok"
assert_eq "$(metric 'corral_state_db_condition{condition="full"}')" "1" \
    "corral_state_db_condition"
# An operator's stop is taken, not refused.
out=$(ctl stop b 2>&1) || fail "stop b while the disk is full: $out"
wait_log 'the stop of 1 worker waits in memory until the state database \(full\)'
ctl restart a >/dev/null || fail "second restart of a"
# A reexec would leave what waits behind: refused, saying why.
out=$(ctl reexec 2>&1) && fail "reexec taken while the disk is full"
echo "$out" | grep -q 'the state database is full (.*): [0-9]* events wait to be written; try again when it can be' ||
    fail "reexec's refusal: $out"
queued=$(ctl status --json | json_get 'j["state_db"]["events_queued"]')
[ "$queued" -gt 20 ] || fail "only $queued events queued while full"
# Said once, not once per event or retry.
n=$(grep -c 'state database .* is full' "$LOG")
assert_eq "$n" "1" "times the condition was logged"

rm -f "$FAULT_SW"
wait_log 'state database .*: written again after .* full; 0 events were dropped'
ctl status | grep -q '^STATE DB' && fail "status still shows the state database"
assert_eq "$(metric corral_state_db_ok)" "1" "corral_state_db_ok after"
stop_corrald

# Nothing lost: 3 + 2 x 3 spawns of a, each restart's exits, b's stop.
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND agent='a'")" 9 \
    "spawns of a written"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='exit' AND agent='a'")" 9 \
    "exits of a written"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='exit' AND agent='b'")" 1 \
    "exits of b written"
assert_eq "$(q "SELECT count(*) FROM held WHERE agent='b'")" 1 "b's stop kept"
assert_eq "$(q "SELECT count(*) FROM events WHERE id != (SELECT min(id) FROM events) AND id - 1 NOT IN (SELECT id FROM events)")" 0 \
    "gaps in the event ids"
echo "ok: $queued events waited for the disk, all written"
