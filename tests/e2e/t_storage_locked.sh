# A checkpoint database another process holds locked does not stall
# corrald: its read before a spawn waits a few milliseconds, not SQLite's
# 10 s, and the spawn is tried again on a timer.  What must hold: while
# the lock is held, `corralctl status` answers within 1 s every time; the
# spawn is put off, then goes ahead without corrald's choice after 2 s
# (said in the log); once the lock is gone the worker counts, and its next
# run is handed its checkpoint by corrald again.
# e2e: alone (tests/run.sh): it times something, loads the machine or builds in the tree.
. "$(dirname "$0")/lib.sh"

CK="$T/corral-checkpoints.db"
conf <<EOF2
[agent:counter]
command = $BUILD/examples/counter --step-ms 20
restart = on-failure
healthy_after = 100ms
backoff_initial = 50ms
stop_timeout = 2s
EOF2

# The locker: an exclusive lock on the database until $T/release exists.
"$PY" - "$CK" "$T/release" >"$T/locker.out" 2>&1 <<'PYEOF' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE IF NOT EXISTS held (x)")
db.execute("PRAGMA locking_mode=EXCLUSIVE")
db.execute("BEGIN EXCLUSIVE")
db.execute("INSERT INTO held VALUES (1)")
db.execute("COMMIT")
db.execute("SELECT * FROM held").fetchall()
print("locked", flush=True)
deadline = time.monotonic() + 60
while not os.path.exists(sys.argv[2]) and time.monotonic() < deadline:
    time.sleep(0.02)
db.close()
print("released", flush=True)
PYEOF
LOCKER=$!
STRAYS=$LOCKER
"$WAITLOG" "$T/locker.out" '^locked$' 1 10000 || fail "the locker did not lock: $(cat "$T/locker.out")"

: >"$LOG"
prlimit --nproc=512 -- "$CORRALD" -c "$T/corral.ini" >>"$LOG" 2>&1 &
CPID=$!
wait_log 'corrald [0-9.]+ \(pid [0-9]+\): 1 agents?, 1 workers?'
# While the spawn is put off again and again, corrald answers at once.
for k in 1 2 3 4 5; do
	t0=$(date +%s%N)
	ctl status >/dev/null || fail "status failed"
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	echo "status $k: ${ms} ms"
	[ "$ms" -lt 1000 ] || fail "status took ${ms} ms while the checkpoint database was locked"
done
wait_log "agent counter\\.0: the checkpoint database $CK is locked; spawn put off 100 ms \\(try 1 of 20\\)"
wait_log "agent counter\\.0: the checkpoint database $CK stayed locked for 2000 ms; starting without corrald's choice \\(the worker resumes from its latest intact checkpoint itself\\)"
t0=$(date +%s%N)
ctl status >/dev/null || fail "status failed"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 1000 ] || fail "status took ${ms} ms"
touch "$T/release"
"$WAITLOG" "$T/locker.out" '^released$' 1 10000 || fail "the locker did not let go"
"$WAITLOG" "$T/log/counter.0.stdout.log" '^step 5$' 1 20000 ||
    fail "the counter did not count once the lock was gone"
pid=$(ctl status --json counter | json_get 'j["workers"][0]["pid"]')
kill -KILL "$pid"
wait_log "agent counter\\.0: resumes thread counter/0 from [0-9a-f-]+"
"$WAITLOG" "$T/log/counter.0.stdout.log" '^resumed at [0-9]+$' 1 20000 ||
    fail "the counter's next run did not resume"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
exit 0
