# A state database that only opens read-only at start (a read-only
# remount: the LD_PRELOAD shim libfault makes its opens for writing fail
# with EROFS, in corrald only): corrald starts, reads back what the file
# holds (an operator's stop, how the last corrald ended), supervises, shows
# the condition, and once the file is writable again writes all that
# waited: its start, the runs, a stop.  Before: corrald exited 1.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:a]
command = $TW sleep
numprocs = 2
healthy_after = 100ms
EOF2
start_corrald
wait_log 'agent a\.1: STARTING -> RUNNING'
ctl stop a:1 >/dev/null || fail "stop a:1"
stop_corrald

touch "$FAULT_SW"
start_faulty EROFS open,write,sync,truncate
wait_log 'state database .* is read-only \(.*\): supervision goes on'
wait_log 'starting after corrald pid [0-9]+ stopped'
wait_log 'agent a\.0: STARTING -> RUNNING'
st=$(ctl status)
echo "$st" | grep -q '^a\.1 *STOPPED\*' || fail "a.1's stop not read back: $st"
echo "$st" | grep -q '^STATE DB  read-only since' || fail "status: $st"
ctl restart a:0 >/dev/null || fail "restart a:0"
ctl start a:1 >/dev/null || fail "start a:1"
rm -f "$FAULT_SW"
wait_log 'state database .*: written again after .* read-only'
ctl status | grep -q '^STATE DB' && fail "status still shows the state database"
stop_corrald
since="id > (SELECT max(id) FROM events WHERE kind='daemon' AND state='stop' AND id < (SELECT max(id) FROM events WHERE kind='daemon' AND state='start'))"
assert_eq "$(q "SELECT detail FROM events WHERE kind='daemon' AND state='start' ORDER BY id DESC LIMIT 1" | cut -d: -f1)" \
    clean "the start written after"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND $since")" 3 \
    "spawns written (a.0 twice, a.1)"
assert_eq "$(q "SELECT count(*) FROM held")" 0 "a.1's start written"
echo "ok"
