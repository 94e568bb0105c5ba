# Another process holds the state database's write lock (a BEGIN
# IMMEDIATE that it keeps): corrald starts all the same, supervises 20
# crash-looping workers whose every failure saves a breaker, answers
# status at once, shows the condition, and writes everything once the lock
# is let go: every spawn and exit it logged is in the database.  Before: corrald
# refused to start ("database is locked"), and running it stalled the loop
# for each breaker it saved (status took up to 2 s).
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
# The loop is not held by the lock: status answers at once, every time.
worst=$("$PY" - "$CTL" "$SOCK" <<'EOF2'
import subprocess, sys, time
worst = 0.0
for _ in range(15):
    t = time.monotonic()
    subprocess.run([sys.argv[1], "-s", sys.argv[2], "status"],
                   stdout=subprocess.DEVNULL, check=True)
    worst = max(worst, time.monotonic() - t)
print("%.3f" % worst)
EOF2
) || fail "status failed while locked"
awk -v w="$worst" 'BEGIN { exit !(w < 0.5) }' ||
    fail "status took ${worst}s while the database was locked"
ctl status | grep -q '^STATE DB  locked since' || fail "status does not show the lock"

touch "$T/release"
wait "$HOLDER"
STRAYS=
wait_log 'state database .*: written again after .* locked'
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
echo "ok: worst status ${worst}s while locked; $logged runs, every one written"
