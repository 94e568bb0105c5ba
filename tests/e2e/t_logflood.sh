# Many workers repeating one warning (20 workers x 150 error reports)
# do not flood corrald's log: the first 1000 lines of that shape are
# written, the rest are counted and said in a summary "SHAPE: N more like
# this suppressed in the last T s"; a different line during the flood is
# written at once; every report is in the state database; no count is
# lost (lines written + suppressed = reports sent).
# e2e: alone (tests/run.sh): it times something, loads the machine or builds in the tree.
. "$(dirname "$0")/lib.sh"

REPORT='CORRAL_ERROR={"severity":"error","recoverable":true,"code":"E7","message":"disk slow"}'
OTHER='CORRAL_ERROR={"severity":"error","recoverable":true,"code":"X","message":"another trouble"}'
conf <<EOF2
[agent:flood]
command = $TW repeat 150 '$REPORT'
numprocs = 20
healthy_after = 100ms

[agent:other]
command = $TW say '$OTHER'
autostart = false
EOF2
start_corrald
flood='agent flood\.[0-9]+ \(pid [0-9]+\): reported recoverable error error E7: disk slow$'
wait_log "$flood" 1000 60
# The limit is reached: a line of another shape still goes out at once.
ctl start --no-wait other >/dev/null || fail "start other"
wait_log 'agent other\.0 \(pid [0-9]+\): reported recoverable error error X: another trouble'
# The summary comes when the window (10 s) of the first suppressed line ends.
summary='agent flood\.# \(pid #\): reported recoverable error error E#: disk slow: [0-9]+ more like this suppressed in the last [0-9.]+ s$'
wait_log "$summary" 1 40
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

reports=$(q "SELECT count(*) FROM events WHERE kind='report' AND agent='flood'")
assert_eq "$reports" 3000 "report events in the state database"
written=$(grep -cE "$flood" "$LOG")
suppressed=$(grep -E "$summary" "$LOG" | sed 's/.*: \([0-9]*\) more like this.*/\1/' | awk '{ s += $1 } END { print s + 0 }')
echo "flood: $written lines written, $suppressed suppressed, $reports reports"
[ "$written" -ge 1000 ] || fail "only $written of the first 1000 lines written"
[ "$written" -lt 1300 ] || fail "$written lines of one warning written: not limited"
assert_eq "$((written + suppressed))" "$reports" "lines written + suppressed"
# Once, not per line: each summary stands for many.
[ "$(grep -cE "$summary" "$LOG")" -le 3 ] || fail "too many summaries"
