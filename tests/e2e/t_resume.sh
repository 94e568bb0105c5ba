# corrald resumes every run from its thread's latest intact checkpoint: a
# counter killed 20 times at random moments still counts every step once
# (its checkpoint chain reads N, N-1, ..., 1) and every run was handed the
# latest checkpoint at its start (spawn and exit events); a checkpoint its
# worker dies on poison_threshold times in a row is rolled back to its
# parent, recorded as a rollback event; corralctl checkpoints lists the
# thread; a corrupt latest row is skipped, and logged.
. "$(dirname "$0")/lib.sh"

CK="$T/corral-checkpoints.db"
# Enough steps that 20 runs, each killed moments after its READY on a
# loaded machine, do not finish the count before the last kill (1,500
# once did).
N=3000
conf <<EOT
circuit_breaker_enabled = false

[defaults]
restart = on-failure
backoff_initial = 10ms
backoff_max = 20ms
healthy_after = 100ms
stop_timeout = 2s

[agent:counter]
command = $BUILD/examples/counter --to $N --step-ms 2
poison_threshold = 0

[agent:poisoned]
command = $BUILD/examples/counter --to 30 --step-ms 2 --poison-at 10
poison_threshold = 3
max_rollback = 3
EOT
start_corrald

# (a) 20 SIGKILLs, each at a random moment of a run that said READY.
i=1
while [ $i -le 20 ]; do
	wait_log 'agent counter\.0 \(pid [0-9]+\): ready' $i
	pid=$(grep -E 'agent counter\.0 \(pid [0-9]+\): ready' "$LOG" |
	    tail -n 1 | sed -E 's/.*\(pid ([0-9]+)\).*/\1/')
	r=$(od -An -N1 -tu1 /dev/urandom | tr -d ' ')
	sleep "$(awk "BEGIN { print ($r % 15) / 1000 }")"
	kill -KILL "$pid" || fail "run $i (pid $pid) was gone before its kill"
	i=$((i + 1))
done
"$WAITLOG" "$T/log/counter.0.stdout.log" "^done at $N\$" 1 60000 ||
    fail "the counter did not count to $N"
wait_log 'agent counter\.0 \(pid [0-9]+\): exited with code 0'

# (b) the poison: three crashes right after resuming from it, a rollback.
"$WAITLOG" "$T/log/poisoned.0.stdout.log" '^done at 30$' 1 20000 ||
    fail "the poisoned counter did not count to 30"
wait_log 'agent poisoned\.0: failed 3 times in a row right after resuming from checkpoint [0-9a-f-]+; rolling back to [0-9a-f-]+ \(rollback 1 of at most 3\)'
grep -q '^resumed at 9$' "$T/log/poisoned.0.stdout.log" ||
    fail "the poisoned counter did not resume at 9 after the rollback"

# chain THREAD N: the checkpoints from the latest back read N ... 1.
chain() {
	"$PY" - "$CK" "$1" "$2" <<'PYEOF' || fail "checkpoint chain of $1"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = {r[0]: (r[1], bytes(r[2]).decode("latin-1")) for r in db.execute(
    "SELECT checkpoint_id, parent_checkpoint_id, checkpoint FROM checkpoints"
    " WHERE thread_id = ? AND checkpoint_ns = ''", (sys.argv[2],))}
cur, vals = max(rows), []
while cur is not None:
    parent, data = rows[cur]
    vals.append(data)
    cur = parent
want = [str(i) for i in range(int(sys.argv[3]), 0, -1)]
if vals != want:
    print("chain of %d: %s ... %s" % (len(vals), vals[:8], vals[-8:]))
    sys.exit(1)
PYEOF
}
chain counter/0 $N
chain poisoned/0 30

# runs AGENT MIN: every spawn resumed from the latest checkpoint then (the
# last one an earlier run wrote), and at least MIN runs.
runs() {
	q "SELECT kind, coalesce(resumed_from, 'NULL'), coalesce(last_checkpoint, '')
	    FROM events WHERE agent = '$1' AND kind IN ('spawn', 'exit', 'rollback')
	    ORDER BY id" >"$T/runs.$1"
	"$PY" - "$T/runs.$1" "$2" "$CK" "${1}/0" <<'PYEOF' || fail "runs of $1"
import sqlite3, sys
latest, spawns, back = "", 0, None
for line in open(sys.argv[1]):
    kind, resumed, last = line.rstrip("\n").split("|")
    if kind == "spawn":
        want = back if back is not None else latest
        if resumed != want:
            print("spawn %d resumed from %r, not %r" % (spawns, resumed, want))
            sys.exit(1)
        spawns += 1
    elif kind == "exit" and last:
        latest, back = last, None
    elif kind == "rollback":
        back = resumed
if spawns < int(sys.argv[2]):
    print("only %d runs" % spawns)
    sys.exit(1)
db = sqlite3.connect(sys.argv[3])
top = db.execute("SELECT max(checkpoint_id) FROM checkpoints WHERE thread_id = ?",
                 (sys.argv[4],)).fetchone()[0]
if top != latest:
    print("the last checkpoint written %r is not the latest %r" % (latest, top))
    sys.exit(1)
PYEOF
}
runs counter 21
runs poisoned 5
# The rollback's ids: from the poison to the checkpoint of 9.
rb=$(q "SELECT last_checkpoint || ' ' || resumed_from FROM events WHERE kind = 'rollback' AND agent = 'poisoned'")
[ -n "$rb" ] || fail "no rollback event"
[ "$(q "SELECT count(*) FROM events WHERE kind = 'rollback'")" = 1 ] ||
    fail "more than one rollback"
data() { "$PY" -c "import sqlite3,sys; print(bytes(sqlite3.connect(sys.argv[1]).execute('SELECT checkpoint FROM checkpoints WHERE checkpoint_id = ?', (sys.argv[2],)).fetchone()[0]).decode())" "$CK" "$1"; }
assert_eq "$(data "${rb% *}")" poison "the checkpoint rolled back from"
assert_eq "$(data "${rb#* }")" 9 "the checkpoint rolled back to"

# (c) corralctl checkpoints: newest first, with parents and metadata.
ctl checkpoints -n 3 poisoned >"$T/cps" || fail "corralctl checkpoints failed"
assert_eq "$(sed -n 1p "$T/cps")" "thread poisoned/0 (poisoned.0)" "checkpoints heading"
sed -n 2p "$T/cps" | grep -Eq '^ID +PARENT +CREATED +BYTES +STATE +METADATA$' ||
    fail "checkpoints header: $(sed -n 2p "$T/cps")"
[ "$(wc -l <"$T/cps")" -eq 5 ] || fail "checkpoints -n 3 printed $(wc -l <"$T/cps") lines"
top=$(q "SELECT max(checkpoint_id) FROM checkpoints WHERE thread_id = 'poisoned/0'" 2>/dev/null)
top=$("$PY" -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT checkpoint_id || ' ' || parent_checkpoint_id FROM checkpoints WHERE thread_id = 'poisoned/0' ORDER BY checkpoint_id DESC LIMIT 1\").fetchone()[0])" "$CK")
sed -n 3p "$T/cps" | grep -Eq "^${top% *} +${top#* } +[0-9-]+ [0-9:.]+ +2 +ok +\{\"source\":\"loop\",\"step\":30\}$" ||
    fail "checkpoints' first row: $(sed -n 3p "$T/cps")"
ctl checkpoints nosuch 2>"$T/err" && fail "checkpoints of no agent succeeded"
grep -q "no agent 'nosuch'" "$T/err" || fail "checkpoints nosuch: $(cat "$T/err")"

# (d) a corrupt latest row is passed over, and said so.
bad=$("$PY" - "$CK" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
top = db.execute("SELECT max(checkpoint_id) FROM checkpoints WHERE thread_id = 'counter/0'").fetchone()[0]
db.execute("UPDATE checkpoints SET checkpoint = x'00' WHERE checkpoint_id = ?", (top,))
db.commit()
print(top)
PYEOF
)
[ -n "$bad" ] || fail "could not corrupt the latest checkpoint"
ctl start counter >/dev/null || fail "corralctl start counter"
wait_log "agent counter\\.0: checkpoint $bad of thread counter/0 is corrupt"
"$WAITLOG" "$T/log/counter.0.stdout.log" "^done at $N\$" 2 20000 ||
    fail "the counter did not count to $N again"
grep -q "^resumed at $((N - 1))\$" "$T/log/counter.0.stdout.log" ||
    fail "the counter did not resume at $((N - 1)) past the corrupt row"
ctl checkpoints -n 2 counter:0 >"$T/cps2" || fail "corralctl checkpoints counter:0"
grep -Eq "^$bad +[0-9a-f-]+ +[0-9-]+ [0-9:.]+ +- +CORRUPT +-$" "$T/cps2" ||
    fail "the corrupt row is not marked: $(cat "$T/cps2")"
stop_corrald
[ "$CRC" -eq 0 ] || fail "corrald exited $CRC"
last=$(q "SELECT resumed_from FROM events WHERE agent = 'counter' AND kind = 'spawn' ORDER BY id DESC LIMIT 1")
[ "$(data "$last")" = $((N - 1)) ] || fail "the last run resumed from $last, not $((N - 1))'s"
exit 0

# A checkpoint database that cannot be opened: corrald says which and goes
# on; the worker says which too (exit 78, fatal), nothing is lost.
conf <<EOF2
[agent:lost]
command = $BUILD/examples/counter --to 3 --step-ms 10
restart = on-failure
healthy_after = 100ms
stderr = file
EOF2
sed -i "s|^\[corrald\]$|[corrald]\ncheckpoint_db = $T/no-such-dir/ck.db|" "$T/corral.ini"
start_corrald
wait_log "cannot open the checkpoint database $T/no-such-dir/ck.db"
wait_log 'agent lost.0 \(pid [0-9]+\): exited with code 78 .*fatal'
grep -q "checkpoint database $T/no-such-dir/ck.db: cannot open the database" "$T/log/lost.0.stderr.log" ||
    fail "the worker's message does not name the database: $(cat "$T/log/lost.0.stderr.log")"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
