# Another process holds the state database's write lock (a BEGIN
# IMMEDIATE that it keeps): corrald starts all the same, supervises 20
# crash-looping workers whose every failure saves a breaker as fast as
# without the lock, shows the condition, and writes everything once the lock
# is let go: every spawn and exit it logged is in the database.  Before: corrald
# refused to start ("database is locked"), and running it stalled the loop
# 100 ms for each breaker it saved.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:crashy]
command = $TW -d 20 exit 1
numprocs = 20
backoff_initial = 20ms
backoff_max = 40ms
healthy_after = 10s
max_retries = 1000
failure_threshold = 1000
EOF2
# A first run makes the database.
start_corrald
wait_log 'agent crashy\.19: spawned'
stop_corrald

# hold: keep the write lock from $T/held until $T/release (60 s at most).
"$PY" - "$DB" "$T/held" "$T/release" <<'EOF2' &
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
end = time.monotonic() + 60
while not os.path.exists(sys.argv[3]) and time.monotonic() < end:
    time.sleep(0.02)
c.execute("COMMIT")
EOF2
HOLDER=$!
STRAYS=$HOLDER
i=0
while [ ! -f "$T/held" ] && [ $i -lt 250 ]; do i=$((i + 1)); sleep 0.02; done
[ -f "$T/held" ] || fail "the lock holder did not start"

start_corrald
wait_log 'state database .* is locked \(.*\): supervision goes on'
wait_log 'agent crashy\.[0-9]+ \(pid [0-9]+\): exited with code 1' 60
# The loop is not held by the lock: workers are restarted about as often
# while it is held as after it is let go (two windows of 2 s, counted in
# the same run: a ratio, not a time; a write that waited 100 ms for each
# breaker saved, as before, cut the rate tenfold).
spawns() { grep -c ': spawned pid' "$LOG"; }
n0=$(spawns); sleep 2; locked=$(( $(spawns) - n0 ))
ctl status | grep -q '^STATE DB  locked since' || fail "status does not show the lock"

touch "$T/release"
wait "$HOLDER"
STRAYS=
wait_log 'state database .*: written again after .* locked'
n0=$(spawns); sleep 2; free=$(( $(spawns) - n0 ))
[ $((locked * 3)) -ge "$free" ] ||
    fail "$locked restarts in 2 s while locked, $free after: the loop waited on the lock"
ctl stop crashy >/dev/null || fail "stop crashy"
stop_corrald
# Every run this start logged is in the database: spawns and exits alike.
logged=$(grep -c 'agent crashy\.[0-9]*: spawned pid' "$LOG")
ended=$(grep -c 'agent crashy\.[0-9]* (pid [0-9]*): ' "$LOG")
since="id > (SELECT max(id) FROM events WHERE kind='daemon' AND state='start')"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND $since")" "$logged" \
    "spawns written"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='exit' AND $since")" "$ended" \
    "exits written"
assert_eq "$logged" "$ended" "runs that ended"
echo "ok: $locked restarts in 2 s while locked, $free after; $logged runs, every one written"
