# event_retention_count keeps the events table bounded: a worker crash
# looping every few milliseconds writes hundreds of events, and pruning
# (in steps, in the background) deletes all but about the newest 100 at
# its step, except the last daemon event whatever its age.  Bad values are refused by --check with
# the line.  Before: the key did not exist and the table only grew.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:crashy]
command = $TW -d 5 exit 1
backoff_initial = 5ms
backoff_max = 5ms
max_retries = 100000
failure_threshold = 100000
EOF2
sed -i 's/^\[corrald\]$/[corrald]\nevent_retention = 1h\nevent_retention_count = 100/' "$T/corral.ini"
"$CORRALD" --check "$T/corral.ini" | grep -q '^event_retention_count = 100$' ||
    fail "--check does not print event_retention_count"
start_corrald
# The first step comes 5 s after the start, when there are hundreds.
wait_log 'pruned [0-9]+ events up to id [0-9]+ \(event_retention\)' 1 30
ctl stop crashy >/dev/null || fail "stop crashy"
stop_corrald
cut=$(sed -n 's/.*pruned [0-9]* events up to id \([0-9]*\) (event_retention).*/\1/p' "$LOG" | tail -n 1)
last=$(q "SELECT max(id) FROM events")
n=$(q "SELECT count(*) FROM events")
[ "$cut" -gt 100 ] || fail "pruned only up to id $cut"
# Up to the cut nothing is left but the start (the last daemon event).
assert_eq "$(q "SELECT count(*) FROM events WHERE id <= $cut AND NOT (kind = 'daemon' AND state = 'start')")" 0 \
    "events kept up to the cut"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='daemon' AND state='start'")" 1 \
    "the start kept"
pruned=$(grep -o 'pruned [0-9]*' "$LOG" | awk '{ s += $2 } END { print s }')
assert_eq "$((last - n))" "$pruned" "events gone (ids are dense) and events said pruned"

printf '[corrald]\nevent_retention = banana\n' >"$T/bad.ini"
out=$("$CORRALD" --check "$T/bad.ini" 2>&1) && fail "--check took a bad event_retention"
echo "$out" | grep -q 'bad.ini:2: event_retention: ' || fail "no line in: $out"
printf '[corrald]\nevent_retention_count = -1\n' >"$T/bad.ini"
out=$("$CORRALD" --check "$T/bad.ini" 2>&1) && fail "--check took a bad count"
echo "$out" | grep -q 'bad.ini:2: event_retention_count: ' || fail "no line in: $out"
echo "ok: $last events written, $pruned pruned up to id $cut, $n left"
