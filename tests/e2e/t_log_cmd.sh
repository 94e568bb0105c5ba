# corralctl log (supervisorctl maintail): the last N lines of corrald's own
# log, whatever its destination (here a log_file), from memory; log -f
# then streams each new line as corrald logs it (a worker's crash) until
# interrupted; a reexec keeps writing to the same log_file, and the new
# image's ring starts empty.
. "$(dirname "$0")/lib.sh"

OWN="$T/corrald-own.log"
conf <<EOF2
log_file = corrald-own.log

[agent:w]
command = $TW sleep
healthy_after = 100ms
EOF2
start_corrald -l info
wait_log "log_file: corrald's messages go to $OWN from now on"
"$WAITLOG" "$OWN" 'agent w\.0: STARTING -> RUNNING' 1 10000 ||
    fail "no worker line in $OWN"

# Quiet now: the last 5 lines are the file's last 5.
ctl log -n 5 >last5 || fail "log -n 5 failed"
assert_eq "$(wc -l <last5)" 5 "lines of log -n 5"
tail -n 5 "$OWN" >file5
cmp -s last5 file5 || fail "log -n 5 is not the file's end: $(cat last5)"
ctl log -n 0 >none || fail "log -n 0 failed"
assert_eq "$(wc -c <none)" 0 "bytes of log -n 0"
# More asked than held: all of them, whatever their destination: the
# line on stderr before the file opened, then the file.
ctl log -n 100000 >all || fail "log -n 100000 failed"
head -n 1 all >first
cmp -s first "$LOG" || fail "log's first line is not stderr's: $(cat first)"
tail -n +2 all >rest
cmp -s rest "$OWN" || fail "log -n 100000 is not stderr's line and the file"
out=$(ctl log w 2>&1) && fail "log with a target succeeded"
assert_eq "$out" "corralctl: usage: log [-f] [-n N]" "log with a target"

# Follow: a line logged after it started, caused by a worker's crash.
"$CTL" -s "$SOCK" log -f -n 1 >follow &
FPID=$!
STRAYS=$FPID
"$WAITLOG" follow 'STARTING -> RUNNING' 1 5000 || fail "log -f showed no last line"
pid=$(ctl status --json w | json_get 'j["workers"][0]["pid"]')
kill -KILL "$pid"
"$WAITLOG" follow "agent w\\.0 \\(pid $pid\\): killed by signal 9" 1 10000 ||
    fail "log -f did not stream the crash"
"$WAITLOG" follow 'agent w\.0: BACKOFF -> STARTING' 1 10000 ||
    fail "log -f stopped streaming"
kill "$FPID"
wait "$FPID" 2>/dev/null
STRAYS=
grep -q 'killed by signal 9' "$LOG" && fail "the crash went to stderr"
"$WAITLOG" "$OWN" 'agent w\.0: STARTING -> RUNNING' 2 10000 ||
    fail "w did not run again"

# reexec: the new image writes to the same file; its ring starts empty.
out=$(ctl reexec) || fail "reexec failed: $out"
"$WAITLOG" "$OWN" 're-executed: 1 workers kept running' 1 10000 ||
    fail "the new image does not write to log_file"
grep -q 're-executed' "$LOG" && fail "the new image writes to stderr"
assert_eq "$(grep -c "log_file: corrald's messages go to $OWN" "$LOG")" 2 \
    "where-to lines on stderr (start, reexec)"
ctl log -n 100000 >after || fail "log after reexec failed"
grep -q 'killed by signal 9' after && fail "the ring outlived the reexec"
grep -q 're-executed: 1 workers kept running' after ||
    fail "the new image's ring lacks its lines"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
grep -q 'exiting' "$OWN" || fail "the new image's last line is not in log_file"
exit 0
