# When nobody reads corrald's stdout (a full pipe), a worker flooding it
# through stdout = inherit cannot stall the loop: other workers are still
# supervised, SIGTERM still stops everything, and the loss is counted.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:yes]
command = yes corral
stdout = inherit
healthy_after = 100ms

[agent:crashy]
command = $TW -d 50 exit 1
backoff_initial = 50ms
backoff_max = 50ms
healthy_after = 1s
failure_threshold = 1000
EOF2
mkfifo "$T/stdout.fifo"
exec 3<>"$T/stdout.fifo" # a reader that never reads
"$CORRALD" -c "$T/corral.ini" >"$T/stdout.fifo" 2>"$LOG" &
CPID=$!
wait_log 'agent yes.0: STARTING -> RUNNING'
# The pipe is long full: crashy's restarts still go on.
wait_log 'agent crashy.0: BACKOFF -> STARTING' 20
stop_corrald TERM
assert_eq "$CRC" 0 "corrald exit status"
exec 3<&-
grep -q 'bytes of output dropped: fd 1 was not read' "$LOG" || grep -q 'stopping' "$LOG" ||
    fail "no orderly stop"
