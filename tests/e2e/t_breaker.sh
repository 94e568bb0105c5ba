# An agent's breaker: failure_threshold failures open it and its instances'
# restarts are HELD for recovery_timeout; a half-open trial that fails
# reopens it for longer, one that becomes healthy closes it and the held
# instances start; transient exits do not count; a fatal exit holds until
# corralctl reset, which records why; an open breaker stays open across a
# SIGKILL of corrald for the rest of its time; CIRCUIT_BREAKER_ENABLED=false
# turns breakers off.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[defaults]
backoff_initial = 50ms
backoff_max = 50ms
healthy_after = 300ms

[agent:flaky]
command = sh -c 'test -e $T/ok || exit 1; exec $TW sleep'
numprocs = 2
failure_threshold = 3
recovery_timeout = 1s
half_open_max_calls = 1

[agent:temp]
command = $TW -d 20 exit 75
failure_threshold = 2
healthy_after = 1s

[agent:fatal]
command = sh -c 'test -e $T/fixed || exit 78; exec $TW sleep'

; Opens on 2 errors; then its trials exit 75, transient: no verdict, so the
; slot comes back and the next trial goes out after the backoff.
[agent:limbo]
command = sh -c 'if [ -e $T/limbo ]; then exit 75; fi; touch $T/limbo; exit 1'
failure_threshold = 1
recovery_timeout = 300ms
half_open_max_calls = 1
healthy_after = 1s
EOF2
start_corrald
wait_log 'agent flaky: breaker CLOSED -> OPEN: failure threshold reached for 1.000s'
wait_log 'agent flaky.[01]: [A-Z]+ -> HELD: breaker open' 2
wait_log 'agent flaky: breaker OPEN -> HALF_OPEN: recovery timeout over'
wait_log 'agent flaky: breaker HALF_OPEN -> OPEN: trial failed for [0-9.]+s'
reopen=$(sed -n 's/.*breaker HALF_OPEN -> OPEN: trial failed for \([0-9.]*\)s.*/\1/p' "$LOG" | head -n 1)
awk -v r="$reopen" 'BEGIN { exit !(r >= 1.45 && r <= 2.55) }' || fail "reopened for ${reopen}s, expected 2s +-25%"
touch "$T/ok"
wait_log 'agent flaky: breaker HALF_OPEN -> CLOSED: trial succeeded' 1 20
wait_log 'agent flaky.[01]: STARTING -> RUNNING' 2 20
assert_eq "$(ctl status --json flaky | json_get '[w["state"] + "/" + w["breaker"] for w in j["workers"]]')" \
    "['RUNNING/CLOSED', 'RUNNING/CLOSED']" "flaky after recovery"
ctl history flaky >hist || fail "history"
grep -q 'breaker HALF_OPEN -> CLOSED: trial succeeded' hist || fail "history lacks the breaker: $(cat hist)"
grep -q 'breaker CLOSED -> OPEN: failure threshold reached' hist || fail "history lacks the opening"

# A trial without a verdict gives its slot back: trials go on.
wait_log 'agent limbo: breaker CLOSED -> OPEN: failure threshold reached'
wait_log 'agent limbo.0 \(pid [0-9]+\): exited with code 75 .*transient' 3
grep -q 'agent limbo: breaker HALF_OPEN -> ' "$LOG" && fail "a transient trial decided limbo's breaker"

# Transient exits never open a breaker.
wait_log 'agent temp.0: BACKOFF -> STARTING' 4
grep -q 'agent temp: breaker' "$LOG" && fail "transient exits opened temp's breaker"

# A fatal exit holds until a human resets the breaker.
wait_log 'agent fatal: breaker CLOSED -> OPEN: fatal failure: reset required'
touch "$T/fixed"
assert_eq "$(ctl reset fatal --reason 'config fixed')" "breaker of fatal closed (was OPEN, reset required)" "reset reply"
wait_log 'agent fatal.0: STARTING -> RUNNING'
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='breaker' AND agent='fatal' AND detail LIKE 'reset by uid % (pid %): config fixed'")" 1 "the reset's record"
# The first trial came when the breaker's time was up, not before.
gap=$(q "SELECT h.time_ms - o.time_ms FROM events o JOIN events h ON h.kind='breaker'
    AND h.agent='flaky' AND h.state='HALF_OPEN' WHERE o.kind='breaker' AND o.agent='flaky'
    AND o.state='OPEN' ORDER BY o.id, h.id LIMIT 1")
[ "$gap" -ge 995 ] || fail "half-open ${gap}ms after opening, before recovery_timeout"

# Open, then corrald dies: the breaker is still open when it comes back,
# for what remains of its time; a breaker a fatal exit opened still needs
# its reset; an agent whose breaker was closed starts as usual.
conf <<EOF2
[agent:lock]
command = sh -c 'test -e $T/ok2 || exit 1; exec $TW sleep'
backoff_initial = 50ms
healthy_after = 200ms
failure_threshold = 1
recovery_timeout = 3s

[agent:doomed]
command = sh -c 'test -e $T/ok3 || exit 78; exec $TW sleep'
healthy_after = 200ms

[agent:fine]
command = $TW sleep
healthy_after = 200ms
EOF2
start_corrald
wait_log 'agent lock: breaker CLOSED -> OPEN: failure threshold reached for 3.000s'
wait_log 'agent doomed: breaker CLOSED -> OPEN: fatal failure: reset required'
wait_log 'agent fine.0: STARTING -> RUNNING'
kill -KILL "$CPID"
wait "$CPID" 2>/dev/null
touch "$T/ok2" "$T/ok3"
start_corrald
wait_log 'agent lock: breaker OPEN since before this start'
wait_log 'agent doomed: breaker OPEN since before this start, reset required'
wait_log 'agent lock.0: STOPPED -> HELD: breaker open'
wait_log 'agent doomed.0: FATAL since before this start'
wait_log 'agent fine.0: STARTING -> RUNNING'
wait_log 'agent lock: breaker HALF_OPEN -> CLOSED: trial succeeded' 1 20
# Still FATAL, well past any timeout: only a human lets it go.
assert_eq "$(ctl status --json doomed | json_get 'j["workers"][0]["state"] + "/" + j["workers"][0]["breaker"]')" "FATAL/OPEN" "doomed after the restart"
ctl reset doomed --reason 'key restored' >/dev/null || fail "reset doomed"
wait_log 'agent doomed.0: STARTING -> RUNNING'
stop_corrald
opened=$(q "SELECT opened_at_ms FROM breakers WHERE name='lock'")
half=$(q "SELECT max(time_ms) FROM events WHERE kind='breaker' AND agent='lock' AND state='HALF_OPEN'")
[ $((half - opened)) -ge 2990 ] || fail "lock half-opened $((half - opened))ms after opening, before its 3s"

# Breakers off: a crash loop past the threshold is never held.  And the
# breakers of agents no longer in the file are forgotten.
[ "$(q "SELECT count(*) FROM breakers WHERE name IN ('lock', 'doomed')")" -eq 2 ] ||
    fail "breaker rows missing before the prune"
conf <<EOF2
[agent:loop]
command = $TW -d 20 exit 1
backoff_initial = 50ms
backoff_max = 50ms
healthy_after = 1s
failure_threshold = 2
EOF2
CIRCUIT_BREAKER_ENABLED=false start_corrald
wait_log 'agent loop.0: BACKOFF -> STARTING' 4
grep -q 'agent loop: breaker' "$LOG" && fail "a breaker acted while disabled"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
assert_eq "$(q "SELECT count(*) FROM breakers WHERE name <> 'loop'")" 0 "breakers of agents gone from the file"
