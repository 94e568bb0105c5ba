# A corrupt state database is a journal to set aside, not a gate: corrald
# moves it aside under a timestamped name, makes a fresh one, says so in
# its log and in status, and supervises.  (1) a file that is not a database
# at all; (2) a real one with a damaged page in its events: the state a
# restart must remember (here an operator's stop) is salvaged into the
# fresh one.  Before: corrald exited 1 and supervised nothing.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:keep]
command = $TW sleep
numprocs = 2
healthy_after = 100ms
EOF2

# (1) Not a database.
head -c 65536 /dev/urandom >"$DB"
cp "$DB" "$T/garbage"
start_corrald
wait_log 'state database .* is corrupt \(.*\): moved aside to .*\.corrupt-[0-9]{8}-[0-9]{6}; starting a fresh one'
wait_log 'agent keep\.1: STARTING -> RUNNING'
aside=$(ctl status --json | json_get 'j["state_db"]["moved_aside_to"]')
cmp -s "$aside" "$T/garbage" || fail "the file moved aside to $aside is not the corrupt one"
ctl status | grep -q "^STATE DB  was corrupt: moved aside to $aside" ||
    fail "status does not say where the corrupt database went"
ctl stop keep:1 >/dev/null || fail "stop keep:1"
stop_corrald
assert_eq "$CRC" 0 "corrald's exit status"
assert_eq "$(q "SELECT count(*) FROM held WHERE agent='keep' AND instance=1")" 1 \
    "the stop in the fresh database"
rm -f "$aside"

# (2) A damaged page among the events; the state tables still read.
"$SQLQ" -w "$DB" "INSERT INTO events (time_ms, kind, detail) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) SELECT 1, 'report', printf('%0200d', x) FROM c" ||
    fail "filling the events"
pages=$(( $(stat -c %s "$DB") / 4096 ))
[ "$pages" -gt 100 ] || fail "only $pages pages"
head -c 4096 /dev/urandom | dd of="$DB" bs=4096 seek=$((pages * 3 / 4)) conv=notrunc 2>/dev/null
start_corrald
wait_log 'state database .* is corrupt \(integrity check: .*\): moved aside'
wait_log 'state database .*: salvaged from .*: meta runs workers held breakers events$'
wait_log 'agent keep\.0: STARTING -> RUNNING'
st=$(ctl status)
echo "$st" | grep -q '^keep\.1 *STOPPED\*' || fail "keep.1's stop was not salvaged: $st"
stop_corrald
assert_eq "$(q "PRAGMA integrity_check")" ok "the fresh database's integrity"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='report'")" 0 "filler copied"
echo "ok: both corrupt databases set aside; the stop of keep.1 kept"
