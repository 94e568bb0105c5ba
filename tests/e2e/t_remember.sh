# A restart of corrald remembers each worker, whether corrald died
# (SIGKILL) or was stopped: a FATAL worker stays FATAL (not HELD, not
# started) until a reset, one that had finished stays EXITED after an
# unplanned death (and starts again after a clean stop), a worker's failure counts and last exit carry
# over, one that was backing off waits out its backoff again, and
# rollback's count of failures after a poison checkpoint goes on where it
# was.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[defaults]
healthy_after = 200ms
stop_timeout = 2s
backoff_initial = 200ms
backoff_multiplier = 10
backoff_jitter = 0
failure_threshold = 100

[agent:fatal]
command = $TW exit 64

[agent:done]
command = $TW exit 0
restart = on-failure

[agent:flaky]
command = $TW -d 20 exit 1
backoff_max = 30s

[agent:poisoned]
command = $BUILD/examples/counter --to 30 --step-ms 2 --poison-at 10
restart = on-failure
backoff_max = 2s
poison_threshold = 3
max_rollback = 3
EOF2
start_corrald
wait_log 'agent fatal.0: STARTING -> FATAL'
wait_log 'agent done.0: STARTING -> EXITED'
wait_log 'agent flaky.0: STARTING -> BACKOFF: .*\(failure 3\)'
# The run that wrote the poison, then two that resumed from it: crashes.
wait_log 'agent poisoned.0 \(pid [0-9]+\): killed by signal 6' 3
ctl status --json >before.json
kill -KILL "$CPID"
wait "$CPID" 2>/dev/null
CPID=

LOG="$T/corrald2.log"
start_corrald
# The third crash right after resuming from the poison is the one that
# rolls back: the count of two came back.
wait_log 'agent poisoned.0: failed 3 times in a row right after resuming from checkpoint'
assert_eq "$(grep -c '^resumed at poison' "$T/log/poisoned.0.stdout.log")" 3 "crashes after resuming from the poison"
ctl status --json >after.json
"$PY" - before.json after.json <<'PY' || fail "workers were forgotten"
import json, sys
b = {w["name"]: w for w in json.load(open(sys.argv[1]))["workers"]}
a = {w["name"]: w for w in json.load(open(sys.argv[2]))["workers"]}
assert a["fatal.0"]["state"] == "FATAL", a["fatal.0"]
assert a["fatal.0"]["last_exit"] == b["fatal.0"]["last_exit"], a["fatal.0"]
assert a["done.0"]["state"] == "EXITED", a["done.0"]
f0, f1 = b["flaky.0"], a["flaky.0"]
assert f1["state"] == "BACKOFF", f1
for k in ("failures", "start_failures", "runtime_failures", "last_exit", "restarts"):
    assert f1[k] == f0[k], (k, f0[k], f1[k])
assert f1["failures"] == 3, f1
print("fatal.0 FATAL, flaky.0 BACKOFF after failure", f1["failures"])
PY
grep -q 'agent flaky.0: STOPPED -> BACKOFF: was backing off before this start; restart in 20.000s (failure 3)' "$LOG" ||
    fail "flaky.0 did not wait out its backoff again"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND agent='fatal'")" 1 "spawns of fatal"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND agent='done'")" 1 "spawns of done"

# A clean stop and start remembers FATAL too; a reset runs it again.
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
LOG="$T/corrald3.log"
start_corrald
wait_log 'agent fatal.0: FATAL since before this start'
wait_log 'agent done.0: STARTING -> EXITED'
out=$(ctl reset fatal --reason "fixed the config") || fail "reset: $out"
wait_log 'agent fatal.0: STARTING -> FATAL'
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND agent='fatal'")" 2 "spawns of fatal after the reset"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
