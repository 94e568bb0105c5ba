# A worker has exactly stdin (/dev/null), stdout and stderr open: nothing of
# corrald's (database, event loop, other workers' pipes, log files) leaks in.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:other]
command = $TW sleep
numprocs = 3
healthy_after = 100ms

[agent:fds]
command = $TW fds
restart = never
priority = 10
EOF2
# An inherited descriptor corrald did not open must not leak either.
exec 7>"$T/inherited"
start_corrald
exec 7>&-
wait_log 'agent fds.0: STARTING -> EXITED'
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
cat "$T/log/fds.0.stdout.log"
assert_eq "$(cut -d' ' -f2 "$T/log/fds.0.stdout.log" | sort | tr '\n' ' ')" "0 1 2 " "open descriptors"
grep -qx 'fd 0 /dev/null' "$T/log/fds.0.stdout.log" || fail "stdin is not /dev/null"
