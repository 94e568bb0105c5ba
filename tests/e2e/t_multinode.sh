# Two nodes, one PostgreSQL: a thread runs on one node at a time.  Nodes
# a and b (two corralds, each with its own state database and socket)
# run the same fleet file, whose counter writes its checkpoints to the
# shared database.  a takes the thread's lease and counts; b, started
# beside it, leaves the thread ELSEWHERE.  a and its worker are killed
# with SIGKILL; once a's lease expires b takes the thread over, resumes
# from a's last checkpoint and finishes the count exactly.  A writer
# holding a's stale fencing token is refused.  a, started again while b
# runs, does not start the thread; b's reexec keeps its worker and its
# lease.  The events of both nodes show no overlap of their runs, and a
# clean stop leaves no lease behind.
. "$(dirname "$0")/lib.sh"

[ -n "${CORRAL_TEST_PG:-}" ] ||
    fail "CORRAL_TEST_PG is not set: tests/run.sh starts a PostgreSQL server for this test"
command -v psql >/dev/null 2>&1 || fail "psql is missing (make deps installs postgresql)"
DBNAME="corral_mn_$$"
psql -X -q -v ON_ERROR_STOP=1 "$CORRAL_TEST_PG" -c "CREATE DATABASE $DBNAME" \
    >/dev/null || fail "cannot create database $DBNAME"
PGDB="$CORRAL_TEST_PG dbname=$DBNAME"
drop_db() {
	psql -X -q "$CORRAL_TEST_PG" -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" \
	    >/dev/null 2>&1
}
APID=
BPID=
mn_cleanup() {
	mrc=$?
	for p in $APID $BPID; do
		for c in $(descendants "$p"); do kill -KILL "$c" 2>/dev/null; done
		kill -KILL "$p" 2>/dev/null
	done
	drop_db
	# cleanup keeps the files of a failed run: it reads the exit status.
	(exit $mrc)
	cleanup
}
trap mn_cleanup EXIT

TO=60
for n in a b; do
	mkdir -p "$T/$n"
	cat >"$T/$n/corral.ini" <<EOF
[corrald]
state_db = $T/$n/state.db
log_dir = $T/$n/log
run_dir = $T/$n
log_level = debug
checkpoint_db = $PGDB
node_name = $n
lease_ttl = 2s

[agent:count]
command = $BUILD/examples/counter --to $TO --step-ms 100
thread_id = shared-count
restart = on-failure
healthy_after = 100ms
backoff_initial = 50ms
stdout = file
EOF
done
# A node's corralctl, and its events.
nctl() { n=$1; shift; "$CTL" -s "$T/$n/corrald.sock" "$@"; }
nq() { "$SQLQ" "$T/$1/state.db" "$2" || fail "query failed on node $1: $2"; }
now_ms() { "$PY" -c 'import time; print(int(time.time() * 1000))'; }
start_node() {
	"$CORRALD" -c "$T/$1/corral.ini" >>"$T/$1/corrald.log" 2>&1 &
	case $1 in a) APID=$! ;; b) BPID=$! ;; esac
}
# wait_node NODE REGEX [TIMEOUT_S]: until NODE's log has a line matching.
wait_node() {
	"$WAITLOG" "$T/$1/corrald.log" "$2" 1 "$(( ${3:-20} * 1000 ))" ||
	    fail "node $1: waiting for '$2': $(tail -n 20 "$T/$1/corrald.log")"
}
status_of() {
	nctl "$1" status --json count | json_get "$2"
}

# 1. a takes the thread and counts.
start_node a
"$WAITLOG" "$T/a/log/count.0.stdout.log" '^step 5$' 1 20000 ||
    fail "node a: the counter did not count: $(tail -n 20 "$T/a/corrald.log")"
tok_a=$(status_of a 'j["workers"][0]["lease"]["token"]')
[ "$tok_a" -gt 0 ] || fail "node a: no fencing token in status ($tok_a)"

# 2. b, beside it, leaves the thread to a.
start_node b
wait_node b 'agent count\.0: [A-Z]* -> ELSEWHERE: thread shared-count runs on node a'
assert_eq "$(status_of b 'j["workers"][0]["state"]')" ELSEWHERE "node b's state while a holds the lease"
assert_eq "$(status_of b 'j["workers"][0]["pid"]')" None "node b's pid while a holds the lease"

# 3. a and its worker die at once, mid-count.
"$WAITLOG" "$T/a/log/count.0.stdout.log" '^step 10$' 1 20000 ||
    fail "node a: the counter did not reach 10"
wpid=$(status_of a 'j["workers"][0]["pid"]')
kill -KILL "$wpid" "$APID"
pids_gone 10 "$APID" || fail "node a did not die"
pids_exited 10 "$wpid" || fail "node a's worker did not die"
killed_ms=$(now_ms)
APID=
last_a=$(sed -n 's/^step \([0-9]*\)$/\1/p' "$T/a/log/count.0.stdout.log" | tail -n 1)

# 4. b takes over once a's lease expires, from a's last checkpoint.
"$WAITLOG" "$T/b/log/count.0.stdout.log" '^resumed at ' 1 20000 ||
    fail "node b did not take the thread over: $(tail -n 20 "$T/b/corrald.log")"
tok_b=$(status_of b 'j["workers"][0]["lease"]["token"]')
[ "$tok_b" -gt "$tok_a" ] || fail "node b's token $tok_b is not past a's $tok_a"

# 5. A writer with a's token, now stale, is refused and writes nothing.
CORRAL_CHECKPOINT_DB="$PGDB" CORRAL_THREAD_ID=shared-count \
    CORRAL_LEASE_TOKEN="$tok_a" prlimit --nproc=64 \
    "$BUILD/examples/counter" --to $TO --step-ms 1 >stale.out 2>stale.err
src=$?
assert_eq "$src" 75 "the stale writer's exit status (stderr: $(cat stale.err))"
grep -q 'fenced' stale.err || fail "the stale writer was not told it is fenced: $(cat stale.err)"
grep -q '^step' stale.out && fail "the stale writer wrote a step: $(cat stale.out)"

# 6. b re-executes itself mid-count: its worker runs on, under the same
# lease and token.
wpid_b=$(status_of b 'j["workers"][0]["pid"]')
nctl b reexec >reexec.out 2>&1 || fail "node b: reexec failed: $(cat reexec.out)"
wait_node b 're-executed: 1 workers kept running'
assert_eq "$(status_of b 'j["workers"][0]["pid"]')" "$wpid_b" "node b's worker after its reexec"
assert_eq "$(status_of b 'j["workers"][0]["lease"]["token"]')" "$tok_b" "node b's token after its reexec"

# 7. a, started again while b runs, leaves the thread to b.
start_node a
wait_node a 'agent count\.0: [A-Z]* -> ELSEWHERE: thread shared-count runs on node b'
"$WAITLOG" "$T/b/log/count.0.stdout.log" "^done at $TO\$" 1 30000 ||
    fail "node b did not finish the count: $(tail -n 5 "$T/b/log/count.0.stdout.log")"
assert_eq "$(status_of a 'j["workers"][0]["state"]')" ELSEWHERE "node a's state while b holds the lease"
kill -TERM "$APID"
wait "$APID"
assert_eq "$?" 0 "node a's exit status"
APID=
kill -TERM "$BPID"
wait "$BPID"
assert_eq "$?" 0 "node b's exit status"
BPID=
# A clean stop gives the lease back: other nodes need not wait for it.
left=$(psql -X -A -t -q "$PGDB" -c "SELECT count(*) FROM corral_leases") ||
    fail "cannot read corral_leases"
assert_eq "$left" 0 "leases left after both nodes stopped"

# The count is exact: a counted 1..last_a, b resumed there (or one further,
# if a died between a checkpoint and its print) and counted on to the end.
"$PY" - "$T/a/log/count.0.stdout.log" "$T/b/log/count.0.stdout.log" "$TO" <<'PY' ||
import sys
a = [l.split() for l in open(sys.argv[1])]
b = [l.split() for l in open(sys.argv[2])]
to = int(sys.argv[3])
sa = [int(w[1]) for w in a if w[0] == "step"]
assert sa == list(range(1, len(sa) + 1)), sa
res = [w for w in b if w[0] == "resumed"]
assert len(res) == 1, res
at = int(res[0][2])
assert len(sa) <= at <= len(sa) + 1, (len(sa), at)
sb = [int(w[1]) for w in b if w[0] == "step"]
assert sb == list(range(at + 1, to + 1)), sb
assert ["done", "at", str(to)] in b, b[-3:]
print("a counted 1..%d, b resumed at %d and counted to %d" % (len(sa), at, to))
PY
    fail "the count is not exact"

# No overlap: b's only run started after a's was dead, and a, once back,
# started none (its spawns all came before the kill).
b_spawns=$(nq b "SELECT count(*) FROM events WHERE kind='spawn'")
assert_eq "$b_spawns" 1 "node b's runs"
b_first=$(nq b "SELECT min(time_ms) FROM events WHERE kind='spawn'")
[ "$b_first" -gt "$killed_ms" ] ||
    fail "node b spawned at $b_first, before a's run was dead ($killed_ms)"
a_late=$(nq a "SELECT count(*) FROM events WHERE kind='spawn' AND time_ms > $killed_ms")
assert_eq "$a_late" 0 "node a's runs after the kill"
a_else=$(nq a "SELECT count(*) FROM events WHERE kind='state' AND state='ELSEWHERE'")
[ "$a_else" -ge 1 ] || fail "node a never recorded ELSEWHERE"
echo "takeover after $(( b_first - killed_ms )) ms; tokens a=$tok_a b=$tok_b; stale writer refused"
