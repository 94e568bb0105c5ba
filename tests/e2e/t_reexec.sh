# corralctl reexec, with corrald's binary replaced in between: corrald runs
# the new binary under the same pid, every RUNNING worker keeps its pid, a
# worker in BACKOFF restarts when its original timer was due, the one the
# operator stopped stays stopped, counters carry over, and a worker
# printing a numbered line every millisecond has no gap in its log.
# e2e: alone (tests/run.sh): it times something, loads the machine or builds in the tree.
. "$(dirname "$0")/lib.sh"

mkdir "$T/bin"
cp "$CORRALD" "$T/bin/corrald"
CORRALD="$T/bin/corrald"
conf <<EOF2
[defaults]
healthy_after = 200ms
stdout = null

[agent:run]
command = $TW sleep
numprocs = 45

[agent:wait]
command = $TW -d 20 exit 1
numprocs = 3
backoff_initial = 3s
backoff_max = 3s
backoff_jitter = 0
healthy_after = 1s

[agent:held]
command = $TW sleep

[agent:count]
command = $TW count
stdout = file
EOF2
start_corrald
wait_log 'STARTING -> RUNNING' 47
wait_log 'agent wait.[0-2]: STARTING -> BACKOFF' 3
ctl stop held >/dev/null
ctl status --json >before.json
"$WAITLOG" "$T/log/count.0.stdout.log" '^500$' 1 10000 || fail "count did not count"

# Upgrade: a new binary at the same path, as an install does it.
cp "$TOP/${BUILD#"$TOP"/}/corrald" "$T/bin/corrald.new"
mv "$T/bin/corrald.new" "$T/bin/corrald"
new_inode=$(stat -c %i "$T/bin/corrald")
out=$(ctl reexec) || fail "reexec failed: $out"
echo "$out"
case "$out" in "re-executed: corrald pid $CPID, 46 workers kept running") ;;
	*) fail "reexec reply: $out" ;; esac
assert_eq "$(stat -L -c %i "/proc/$CPID/exe")" "$new_inode" "corrald runs the new binary"
ctl status --json >after.json

"$PY" - before.json after.json <<'PY' || fail "workers changed across reexec"
import json, sys
b = {w["name"]: w for w in json.load(open(sys.argv[1]))["workers"]}
a = {w["name"]: w for w in json.load(open(sys.argv[2]))["workers"]}
assert b.keys() == a.keys()
for n, w in b.items():
    x = a[n]
    for k in ("state", "pid", "restarts", "start_failures", "runtime_failures", "held", "last_exit"):
        assert w[k] == x[k], (n, k, w[k], x[k])
    if w["pid"]:
        assert x["uptime_ms"] >= w["uptime_ms"], (n, "uptime went back")
assert a["held.0"]["state"] == "STOPPED" and a["held.0"]["held"]
print("all", len(a), "workers unchanged")
PY
# The backoff timers fire when they were due: 3 s after each exit.
wait_log 'agent wait.[0-2]: BACKOFF -> STARTING' 3
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
q "SELECT e.instance, (SELECT min(s.time_ms) FROM events s WHERE s.kind='spawn'
    AND s.agent='wait' AND s.instance=e.instance AND s.id > e.id) - e.time_ms
    FROM events e WHERE e.kind='exit' AND e.agent='wait' AND e.restarts=0" >due
cat due
while IFS='|' read -r inst d; do
	[ "$d" -ge 2995 ] && [ "$d" -le 3300 ] || fail "wait.$inst restarted ${d}ms after its exit, not 3000"
done <due
assert_eq "$(wc -l <due)" 3 "backoff restarts"
assert_eq "$(q "SELECT group_concat(state) FROM events WHERE kind='daemon'")" "start,reexec,stop" "daemon events"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND agent='held'")" 1 "held spawned once"
# Every number from 1 to the last, once, in order.
"$PY" - "$T/log/count.0.stdout.log" <<'PY' || fail "the counter's log has a gap"
import sys
n = [int(l) for l in open(sys.argv[1]) if l.strip()]
assert n == list(range(1, len(n) + 1)), next(i for i, v in enumerate(n, 1) if v != i)
print(len(n), "lines, no gap")
PY

# A reexec while starts still wait in the spawn queue (more workers than
# one spawn batch): the new image adopts them queued and starts them.
conf <<EOF2
[agent:many]
command = $TW sleep
numprocs = 300
healthy_after = 100ms
EOF2
start_corrald
i=0
until ctl reexec >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "reexec never accepted"
done
wait_log 're-executed'
wait_log 'agent many.299: STARTING -> RUNNING' 1 30
assert_eq "$(ctl status --json | json_get 'sorted(set(w["state"] for w in j["workers"]))')" "['RUNNING']" "every worker after the reexec"

stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

# Asked during a shutdown, a reexec is refused: the shutdown goes on.
conf <<EOF2
[agent:slow]
command = $TW ignore-term
stop_timeout = 3s
healthy_after = 100ms
EOF2
start_corrald
wait_log 'agent slow.0: STARTING -> RUNNING'
kill -TERM "$CPID"
wait_log 'stopping 1 running workers'
ctl reexec >out 2>&1 && fail "a reexec during shutdown was accepted"
grep -q 'shutting down' out || fail "reexec during shutdown: $(cat out)"
wait "$CPID"
assert_eq "$?" 0 "corrald exit status"
CPID=
