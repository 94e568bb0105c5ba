# stdout = inherit passes a worker's output through corrald's own, each line
# prefixed with [agent.N], a final line without newline included; stderr =
# null discards; stderr = file writes the log file.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:talk]
command = sh -c 'echo one; echo two >&2; printf "three"'
restart = never
stdout = inherit
stderr = null

[agent:err]
command = sh -c 'echo to-file >&2'
restart = never
stdout = inherit
stderr = file
EOF2
start_corrald
wait_log 'agent talk.0: STARTING -> EXITED'
wait_log 'agent err.0: STARTING -> EXITED'
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
grep -qx '\[talk.0\] one' "$LOG" || fail "prefixed line"
grep -qx '\[talk.0\] three' "$LOG" || fail "unterminated last line"
grep -q 'two' "$LOG" && fail "stderr = null was not discarded"
assert_eq "$(cat "$T/log/err.0.stderr.log")" "to-file" "stderr log file"
