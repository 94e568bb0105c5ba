# A worker that corrald's unplanned death tells to stop (PR_SET_PDEATHSIG)
# writes its last checkpoint: printing while it stops, to a pipe nobody
# reads any more, must not kill it (SIGPIPE).  The next corrald resumes it
# from that checkpoint.
. "$(dirname "$0")/lib.sh"

CKDB="$T/corral-checkpoints.db"
conf <<EOF2
[agent:c]
command = $BUILD/examples/counter --step-ms 20 --final-ms 300
healthy_after = 100ms
stop_timeout = 5s
EOF2
start_corrald
wait_log 'agent c.0: STARTING -> RUNNING'
"$WAITLOG" "$T/log/c.0.stdout.log" '^step 5$' 1 10000 || fail "the counter did not count"
pid=$(q "SELECT pid FROM events WHERE kind='spawn' AND agent='c'")
STRAYS=$pid
kill -KILL "$CPID"
wait "$CPID" 2>/dev/null
CPID=
pids_exited 5 "$pid" || fail "the counter outlived corrald"
last=$("$SQLQ" "$CKDB" "SELECT checkpoint FROM checkpoints WHERE thread_id='c/0'
    ORDER BY checkpoint_id DESC LIMIT 1")
echo "last checkpoint: $last"
case "$last" in *" final") ;; *) fail "no final checkpoint: the last is '$last'" ;; esac
n=${last% final}
# Its output after corrald died went nowhere: the log ends before it.
grep -q 'winding down' "$T/log/c.0.stdout.log" && fail "output after corrald's death was logged"

LOG="$T/corrald2.log"
start_corrald
wait_log 'agent c.0: STARTING -> RUNNING'
"$WAITLOG" "$T/log/c.0.stdout.log" "^resumed at $n\$" 1 10000 ||
    fail "the next run did not resume at $n"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
grep -q "^final checkpoint at" "$T/log/c.0.stdout.log" || fail "a clean stop wrote no final checkpoint"
