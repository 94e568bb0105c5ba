# Exits are classified from what really happened: SIGKILL from someone else
# is 'killed', SIGSEGV is 'crash', code 75 'transient', code 3 'error'; a run
# that lived past healthy_after and then failed is a runtime failure.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[defaults]
backoff_initial = 5s
backoff_max = 5s
healthy_after = 200ms

[agent:victim]
command = $TW sleep

[agent:segv]
command = $TW signal 11

[agent:temp]
command = $TW exit 75

[agent:late]
command = $TW -d 400 exit 3
EOF2
start_corrald
wait_log 'agent victim.0: STARTING -> RUNNING'
kill -KILL "$(q "SELECT pid FROM events WHERE kind='spawn' AND agent='victim'")"
wait_log 'agent victim.0: RUNNING -> BACKOFF'
wait_log 'agent segv.0: STARTING -> BACKOFF'
wait_log 'agent temp.0: STARTING -> BACKOFF'
wait_log 'agent late.0: RUNNING -> BACKOFF'
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
c() { q "SELECT class || '|' || coalesce(code, '') || '|' || coalesce(signal, '') || '|' || start_failure FROM events WHERE kind='exit' AND agent='$1' ORDER BY id LIMIT 1"; }
assert_eq "$(c victim)" "killed||9|0" "victim"
assert_eq "$(c segv)" "crash||11|1" "segv"
assert_eq "$(c temp)" "transient|75||1" "temp"
assert_eq "$(c late)" "error|3||0" "late"
grep -q 'agent segv.0 (pid [0-9]*): killed by signal 11 (SEGV)' "$LOG" || fail "signal not named in the log"
