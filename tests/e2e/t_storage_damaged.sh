# Damaged pages in the checkpoint database (a page in the middle of the
# file, the checkpoints table's root; not the header) are reported and
# hold the agent: no restart loop.  What must hold: corrald's own read
# before the spawn finds the damage, says so naming the file, and holds
# each instance (FATAL, the reason in status) without spawning it, while
# a ticker agent restarts 20 times beside it; an operator's start runs it
# once, the worker finds the damage itself (exit 74, CORRAL_STORAGE=
# damaged) and it is held again, never restarted by corrald.
. "$(dirname "$0")/lib.sh"

CK="$T/corral-checkpoints.db"
conf <<EOF2
[defaults]
restart = on-failure
healthy_after = 100ms
backoff_initial = 10ms
backoff_max = 20ms
stop_timeout = 2s
storage_retry = 100ms
stderr = file

[agent:counter]
numprocs = 2
command = $BUILD/examples/counter --to 300 --step-ms 1
EOF2
start_corrald
for i in 0 1; do
	"$WAITLOG" "$T/log/counter.$i.stdout.log" '^done at 300$' 1 30000 ||
	    fail "counter.$i did not count to 300"
done
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

# The checkpoints table's root page, in the middle of the file: garbled.
"$PY" - "$CK" <<'PYEOF' || fail "could not damage $CK"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'checkpoints'").fetchone()[0]
size = db.execute("PRAGMA page_size").fetchone()[0]
pages = db.execute("PRAGMA page_count").fetchone()[0]
db.close()
assert 1 < root < pages, (root, pages)
with open(sys.argv[1], "r+b") as f:
    f.seek((root - 1) * size)
    f.write(b"\x5a" * size)
print("damaged page %d of %d" % (root, pages))
PYEOF

# Again, with a ticker beside it: a clock of restarts, for "no loop".
cat >>"$T/corral.ini" <<EOF2

[agent:ticker]
command = $TW -d 50 exit 0
restart = always
backoff_initial = 50ms
backoff_max = 50ms
backoff_jitter = 0
EOF2
LOG="$T/corrald2.log"
: >"$LOG"
prlimit --nproc=512 -- "$CORRALD" -c "$T/corral.ini" >>"$LOG" 2>&1 &
CPID=$!
for i in 0 1; do
	wait_log "agent counter\\.$i: [A-Z]+ -> FATAL: checkpoint storage error: checkpoint database $CK is damaged \\(thread counter/$i: list: database disk image is malformed\\); held until corralctl start or reset"
done
wait_log 'agent ticker\.0 \(pid [0-9]+\): exited with code 0' 20 30
assert_eq "$(grep -c 'agent counter\.[01]: spawned' "$LOG")" 0 "runs of counter while damaged"
# Held, not running: status of it says so with exit 3 (docs/CONTROL.md).
ctl status --json counter >"$T/st.json"
[ $? -eq 3 ] || fail "status of held workers: exit status not 3"
"$PY" - "$T/st.json" "$CK" <<'PYEOF' || fail "status: $(cat "$T/st.json")"
import json, sys
for w in json.load(open(sys.argv[1]))["workers"]:
    assert w["state"] == "FATAL" and w["pid"] is None, w
    assert w["storage_error"]["kind"] == "damaged", w
    assert sys.argv[2] + " is damaged" in w["storage_error"]["reason"], w
PYEOF

# The operator starts one: one run, which finds the damage itself.
ctl start counter:0 >/dev/null 2>&1
wait_log "agent counter\\.0: checkpoint storage error: checkpoint database $CK is damaged .*; started by the operator: it runs without corrald's choice of checkpoint"
wait_log "agent counter\\.0 \\(pid [0-9]+\\): checkpoint storage error \\(damaged\\): checkpoint database $CK: list: database disk image is malformed"
wait_log "agent counter\\.0 \\(pid [0-9]+\\): exited with code 74 .*: storage"
# Held again: by its own word or corrald's read at its exit, both damaged.
wait_log "agent counter\\.0: (STARTING|RUNNING) -> FATAL: checkpoint storage error.*(is damaged|malformed).*; held until corralctl start or reset"
n=$(grep -c 'agent ticker\.0 (pid [0-9]*): exited with code 0' "$LOG")
wait_log 'agent ticker\.0 \(pid [0-9]+\): exited with code 0' $((n + 20)) 30
assert_eq "$(grep -c 'agent counter\.0: spawned' "$LOG")" 1 "runs of counter.0 after the operator's start"
assert_eq "$(grep -c 'agent counter\.1: spawned' "$LOG")" 0 "runs of counter.1"
assert_eq "$(ctl status --json counter | json_get '[w["state"] for w in j["workers"]]')" "['FATAL', 'FATAL']" "counter's states"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
exit 0
