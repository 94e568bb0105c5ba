# A second corrald on the same state database refuses to start, says which
# corrald holds it, and leaves the first one and its workers untouched.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:one]
command = $TW sleep
healthy_after = 100ms
EOF2
start_corrald
wait_log 'agent one.0: STARTING -> RUNNING'
"$CORRALD" -c "$T/corral.ini" >second.log 2>&1
rc=$?
cat second.log
[ $rc -ne 0 ] || fail "second corrald exited 0"
grep -q "state database $DB is in use by another corrald (pid $CPID, lock $DB.lock)" second.log ||
    fail "second corrald's message does not name the database and the holder"
[ -e "/proc/$CPID" ] || fail "first corrald died"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn'")" 1 "spawns (the second started nothing)"
stop_corrald
assert_eq "$CRC" 0 "first corrald exit status"
