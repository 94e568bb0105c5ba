# Fallback agents: while an agent's breaker is open its instances are
# DEGRADED and its fallback runs in its place; when the breaker closes the
# fallback stops.  Fallbacks chain: a fallback whose own breaker opens has
# its own fallback run.  After a SIGKILL of corrald, an agent still open
# has its fallback started again.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[defaults]
backoff_initial = 50ms
backoff_max = 50ms
healthy_after = 300ms

[agent:primary]
command = sh -c 'test -e $T/ok || exit 1; exec $TW sleep'
failure_threshold = 2
recovery_timeout = 1s
half_open_max_calls = 1
fallback = backup

[agent:backup]
command = $TW sleep
autostart = false

; A chain: p2 falls back to b2, which is broken too and falls back to c2.
[agent:p2]
command = sh -c 'test -e $T/ok2 || exit 1; exec $TW sleep'
failure_threshold = 1
recovery_timeout = 1s
half_open_max_calls = 1
fallback = b2

[agent:b2]
command = $TW -d 20 exit 1
autostart = false
failure_threshold = 1
recovery_timeout = 1h
fallback = c2

[agent:c2]
command = $TW sleep
autostart = false
EOF2
start_corrald
wait_log 'agent primary: breaker CLOSED -> OPEN: failure threshold reached'
wait_log 'agent primary.0: [A-Z]+ -> DEGRADED: breaker open; backup runs instead'
wait_log 'agent backup: runs in place of primary \(1 instance started\)'
wait_log 'agent backup.0: STARTING -> RUNNING'
assert_eq "$(ctl status --json primary backup | json_get '[w["state"] for w in j["workers"]]')" \
    "['DEGRADED', 'RUNNING']" "primary and backup while open"

# The chain: b2 runs for p2, fails, opens; c2 runs in its place.
wait_log 'agent b2: runs in place of p2'
wait_log 'agent b2: breaker CLOSED -> OPEN'
wait_log 'agent c2: runs in place of b2'
wait_log 'agent c2.0: STARTING -> RUNNING'

# The primary recovers: its fallback stops.
touch "$T/ok"
wait_log 'agent primary: breaker HALF_OPEN -> CLOSED: trial succeeded' 1 20
wait_log 'agent backup: no agent falls back to it any more \(1 instance stopped\)'
wait_log 'agent backup.0: STOPPING -> STOPPED'
assert_eq "$(ctl status --json primary backup | json_get '[w["state"] for w in j["workers"]]')" \
    "['RUNNING', 'STOPPED']" "primary and backup after recovery"

# p2 recovers: b2 is no longer needed, and so neither is c2.
touch "$T/ok2"
wait_log 'agent p2: breaker HALF_OPEN -> CLOSED: trial succeeded' 1 20
wait_log 'agent c2.0: STOPPING -> STOPPED' 1 10
assert_eq "$(ctl status --json p2 b2 c2 | json_get '[w["state"] for w in j["workers"]]')" \
    "['RUNNING', 'STOPPED', 'STOPPED']" "the chain after recovery"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
assert_eq "$(q "SELECT class FROM events WHERE kind='exit' AND agent='backup' ORDER BY id LIMIT 1")" stopped "backup's exit"

# Open when corrald dies: after the restart the fallback runs again.
rm "$T/ok"
conf <<EOF2
[defaults]
healthy_after = 300ms

[agent:primary]
command = sh -c 'test -e $T/ok || exit 1; exec $TW sleep'
backoff_initial = 50ms
failure_threshold = 1
recovery_timeout = 1h
fallback = backup

[agent:backup]
command = $TW sleep
autostart = false
EOF2
start_corrald
wait_log 'agent backup.0: STARTING -> RUNNING'
kill -KILL "$CPID"
wait "$CPID" 2>/dev/null
start_corrald
wait_log 'agent primary: breaker OPEN since before this start'
wait_log 'agent primary.0: STOPPED -> DEGRADED'
wait_log 'agent backup: runs in place of primary'
wait_log 'agent backup.0: STARTING -> RUNNING'

# An operator's start of a DEGRADED instance is the breaker's trial: it
# half-opens at once, the healthy run closes it, and the fallback stops.
touch "$T/ok"
ctl start primary >/dev/null || fail "start primary"
wait_log 'agent primary: breaker OPEN -> HALF_OPEN: primary.0 started by the operator: its run is the trial'
wait_log 'agent primary: breaker HALF_OPEN -> CLOSED: trial succeeded'
wait_log 'agent backup: no agent falls back to it any more'
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

# A chain whose middle fails for good (fatal): the last one stands in, and
# everything stops when the primary recovers.  An autostart fallback runs
# on its own and is never stopped for a primary's recovery.
conf <<EOF2
[defaults]
backoff_initial = 50ms
backoff_max = 50ms
healthy_after = 300ms

[agent:a]
command = sh -c 'test -e $T/ok5 || exit 1; exec $TW sleep'
failure_threshold = 1
recovery_timeout = 1s
half_open_max_calls = 1
fallback = b

[agent:b]
command = $TW -d 20 exit 78
autostart = false
fallback = c

[agent:c]
command = $TW sleep
autostart = false

[agent:p]
command = sh -c 'test -e $T/ok5 || exit 1; exec $TW sleep'
failure_threshold = 1
recovery_timeout = 1s
half_open_max_calls = 1
fallback = always

[agent:always]
command = $TW sleep
EOF2
start_corrald
wait_log 'agent b: breaker CLOSED -> OPEN: fatal failure: reset required'
wait_log 'agent c.0: STARTING -> RUNNING'
always=$(ctl status --json always | json_get 'j["workers"][0]["pid"]')
touch "$T/ok5"
wait_log 'agent a: breaker HALF_OPEN -> CLOSED: trial succeeded' 1 20
wait_log 'agent p: breaker HALF_OPEN -> CLOSED: trial succeeded' 1 20
wait_log 'agent c.0: STOPPING -> STOPPED' 1 10
assert_eq "$(ctl status --json a b c always | json_get '[w["state"] for w in j["workers"]]')" \
    "['RUNNING', 'STOPPED', 'STOPPED', 'RUNNING']" "the chain after recovery"
assert_eq "$(ctl status --json always | json_get 'j["workers"][0]["pid"]')" "$always" "the autostart fallback's pid"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
