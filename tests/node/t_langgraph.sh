# A LangGraph JS graph under corrald (tests/node/langgraph_resume.mjs: it
# counts to N, one superstep per number, checkpointed by the saver of
# corrald's environment), SIGKILLed twice mid-run, each time after some
# checkpoints and before the next step: corrald restarts it, it resumes
# from the checkpoint corrald chose (not from scratch), and the count ends
# exact: the list 1..N with no gap and no duplicate, the counter N, no
# step done twice, one linear chain of checkpoints.
# Run by tests/node/run.sh in both passes, after it linked the pinned
# packages into BUILD/node.
. "$(dirname "$0")/../e2e/lib.sh"

NODE_DIR="$BUILD/node"
NODE=$(command -v node) || fail "no node (make deps installs it)"
[ -f "$NODE_DIR/langgraph/corral.node" ] ||
    fail "no @corral/langgraph in $NODE_DIR/langgraph (make builds it)"
[ -d "$NODE_DIR/node_modules/@langchain/langgraph" ] ||
    fail "no LangGraph JS in $NODE_DIR/node_modules (tests/node/run.sh installs it)"
# A sanitized addon needs the sanitizers' runtime first in node, and so in
# the worker corrald starts (which inherits it: corrald, built the same
# way, does not mind).  node frees not all at exit.
if [ -n "${SAN:-}" ]; then
	LD_PRELOAD=$(ldd "$NODE_DIR/langgraph/corral.node" |
	    awk '/lib(asan|ubsan|clang_rt)/ { printf "%s ", $3 }')
	[ -n "$LD_PRELOAD" ] || fail "no sanitizer runtime linked into the addon"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
	export LD_PRELOAD ASAN_OPTIONS
fi
# The script beside links to the build's packages and to @corral/langgraph
# (BUILD/node/langgraph): ES modules resolve bare names from the importing
# file's directory, never from NODE_PATH.
cp "$TOP/tests/node/langgraph_resume.mjs" "$T/" || fail "copy the script"
mkdir -p "$T/node_modules/@corral" &&
    ln -s "$NODE_DIR/node_modules/"* "$T/node_modules/" &&
    ln -s "$NODE_DIR/langgraph" "$T/node_modules/@corral/langgraph" ||
    fail "link the packages"

N=12
H1=4
H2=9
CK="$T/ck.db"
conf <<EOF2
checkpoint_db = $CK

[agent:lg]
command = $NODE $T/langgraph_resume.mjs --to $N --hold $H1,$H2 --gate $T
restart = on-failure
healthy_after = 100ms
backoff_initial = 10ms
backoff_max = 20ms
stdout = file
stderr = file
EOF2
: >"$LOG"
prlimit --nproc=512 -- "$CORRALD" -c "$T/corral.ini" >>"$LOG" 2>&1 &
CPID=$!
out="$T/log/lg.0.stdout.log"

# rows N: until the thread has at least N checkpoints (LangGraph's default
# durability writes a step's checkpoint while the next step runs).
rows() {
	"$PY" - "$CK" "$1" <<'PYEOF' || fail "the thread never had $1 checkpoints"
import sqlite3, sys, time
until = time.monotonic() + 20
while True:
    try:
        db = sqlite3.connect(sys.argv[1], timeout=5)
        n = db.execute("SELECT count(*) FROM checkpoints WHERE thread_id = 'lg/0'"
                       " AND checkpoint_ns = ''").fetchone()[0]
        db.close()
    except sqlite3.OperationalError:
        n = 0
    if n >= int(sys.argv[2]):
        sys.exit(0)
    if time.monotonic() > until:
        print("%d checkpoints" % n)
        sys.exit(1)
    time.sleep(0.02)
PYEOF
}

# kill_at K: the run holding at K, with the checkpoints of the input,
# step 0 and 1..K-1 written, is SIGKILLed; then step K may go on.
nkill=0
kill_at() {
	"$WAITLOG" "$out" "^holding at $1\$" 1 60000 ||
	    fail "the graph never held at $1: $(tail -n 5 "$out"; cat "$T/log/lg.0.stderr.log")"
	rows $(($1 + 1))
	pid=$(ctl status --json lg | json_get 'j["workers"][0]["pid"]')
	kill -KILL "$pid" || fail "run $pid ended before its kill at $1"
	nkill=$((nkill + 1))
	wait_log "agent lg\\.0 \\(pid $pid\\): killed by signal 9"
	: >"$T/go.$1"
}
kill_at $H1
kill_at $H2
"$WAITLOG" "$out" "^done " 1 60000 ||
    fail "the graph did not finish: $(tail -n 5 "$out"; cat "$T/log/lg.0.stderr.log")"
wait_log 'agent lg\.0 \(pid [0-9]+\): exited with code 0'
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

# What the runs printed: three starts, the second and third resumed where
# the kills left them, each step once and in order, the final state exact.
"$PY" - "$out" "$N" "$H1" "$H2" <<'PYEOF' || fail "the runs went wrong: $(cat "$out")"
import sys
n, h1, h2 = (int(a) for a in sys.argv[2:5])
starts, resumed, steps, done = [], [], [], None
for line in open(sys.argv[1]):
    w = line.split()
    if w[0] == "start":
        starts.append(w[4])
    elif w[0] == "resumed":
        resumed.append((int(w[2]), int(w[4])))
    elif w[0] == "step":
        steps.append(int(w[1]))
    elif w[0] == "done":
        done = (int(w[2]), w[4])
assert len(starts) == 3, starts
assert starts[0] == "-" and starts[1] != "-" and starts[2] != "-", starts
assert resumed == [(h1 - 1, h1 - 1), (h2 - 1, h2 - 1)], resumed
assert steps == list(range(1, n + 1)), steps
assert done == (n, ",".join(str(i) for i in range(1, n + 1))), done
print("3 runs, resumed at %d and %d, steps 1..%d once each" % (h1 - 1, h2 - 1, n))
PYEOF

# corrald's side: the second and third spawns were told the checkpoints the
# runs resumed from.
q "SELECT coalesce(nullif(resumed_from, ''), '-') FROM events WHERE agent = 'lg'
    AND kind = 'spawn' ORDER BY id" >spawns
sed -n 's/^start thread lg\/0 resume //p' "$out" >told
cmp -s spawns told || fail "spawn events $(cat spawns) against what the runs were told $(cat told)"

# What the database holds, read back by a saver of its own: the final state,
# and one linear chain of N + 2 checkpoints (the input, step 0, steps 1..N):
# a run started from scratch would have made a second chain.
(cd "$T" && "$NODE" langgraph_resume.mjs --show "$CK" lg/0) >show.json ||
    fail "reading the final state back"
"$PY" - show.json "$N" <<'PYEOF' || fail "the stored state: $(cat show.json)"
import json, sys
j = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert j["values"]["counter"] == n, j
assert j["values"]["numbers"] == list(range(1, n + 1)), j
assert j["step"] == n, j
PYEOF
"$PY" - "$CK" "$N" <<'PYEOF' || fail "the checkpoint chain"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = dict(db.execute("SELECT checkpoint_id, parent_checkpoint_id FROM checkpoints"
                       " WHERE thread_id = 'lg/0' AND checkpoint_ns = ''"))
cur, chain = max(rows), []
while cur is not None:
    chain.append(cur)
    cur = rows[cur]
assert len(chain) == len(rows) == int(sys.argv[2]) + 2, (len(chain), len(rows))
PYEOF
echo "killed $nkill times; the state and the chain of $((N + 2)) checkpoints are exact"
