# A fatal exit code, an exec failure and exhausted max_retries each leave the
# worker FATAL, not restarted; the exec failure's errno is in its event.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[defaults]
backoff_initial = 50ms
backoff_max = 50ms
healthy_after = 2s

[agent:usage]
command = $TW exit 64

[agent:missing]
command = $T/no-such-binary --flag

[agent:nodir]
command = $TW sleep
directory = $T/no-such-dir

[agent:retries]
command = $TW exit 2
max_retries = 3
EOF2
start_corrald
wait_log 'agent usage.0: STARTING -> FATAL'
wait_log 'agent missing.0: STARTING -> FATAL'
wait_log 'agent nodir.0: STARTING -> FATAL'
wait_log 'agent retries.0: STARTING -> FATAL: max_retries reached'
grep -q "agent missing.0 (pid [0-9]*): cannot start: exec $T/no-such-binary: No such file or directory" "$LOG" ||
    fail "exec failure not logged with the command and the reason"
grep -q "agent nodir.0 (pid [0-9]*): cannot start: chdir failed: No such file or directory" "$LOG" ||
    fail "chdir failure not logged"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

row() { q "SELECT class, coalesce(code,''), coalesce(errno,'') FROM events WHERE kind='exit' AND agent='$1'"; }
assert_eq "$(row usage)" "fatal|64|" "usage exit"
assert_eq "$(row missing)" "fatal|127|2" "exec failure (ENOENT)"
assert_eq "$(row nodir)" "fatal|127|2" "chdir failure"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND agent='retries'")" 4 "runs with max_retries = 3"
assert_eq "$(q "SELECT detail FROM events WHERE kind='exit' AND agent='missing'")" \
    "exec $T/no-such-binary: No such file or directory" "exec failure detail"
