# The shared PostgreSQL goes away under a node that holds a lease: corrald
# keeps supervising (status answers), stops the worker before its lease
# could expire, shows it ELSEWHERE with the reason, and once the database
# is back takes the lease again under a new token and restarts the worker.
# Then the tables are dropped under it: it says so, makes them again and
# goes on.
# The test runs a PostgreSQL server of its own, which it stops and starts.
. "$(dirname "$0")/lib.sh"

command -v psql >/dev/null 2>&1 || fail "psql is missing (make deps installs postgresql)"
# Not under $T: the server's user (postgres, as root) must reach it.
PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/corral-pg.XXXXXX") || fail "mktemp"
PGDB=$(sh "$TOP/tests/pg/pg.sh" start "$PGDIR" 2>pg.err) ||
    fail "cannot start a PostgreSQL server: $(cat pg.err)"
out_cleanup() {
	orc=$?
	sh "$TOP/tests/pg/pg.sh" stop "$PGDIR"
	(exit $orc)
	cleanup
}
trap out_cleanup EXIT

conf <<EOF2
[corrald]
checkpoint_db = $PGDB
node_name = n1
lease_ttl = 3s

[agent:w]
command = $TW ready
thread_id = outage
healthy_after = 100ms
EOF2
# conf wrote a [corrald] section of its own first: merge the two.
"$PY" - "$T/corral.ini" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().split("\n")
extra = []
out = []
i = lines.index("[corrald]", 1)
j = i + 1
while lines[j].strip():
    extra.append(lines[j]); j += 1
out = lines[:i] + lines[j:]
k = out.index("[corrald]") + 1
out[k:k] = extra
open(p, "w").write("\n".join(out))
PY
start_corrald
wait_log 'agent w\.0: STARTING -> RUNNING'
tok1=$(ctl status --json w | json_get 'j["workers"][0]["lease"]["token"]')
pid1=$(ctl status --json w | json_get 'j["workers"][0]["pid"]')
[ "$tok1" -gt 0 ] || fail "no token before the outage ($tok1)"

# The outage.
sh "$TOP/tests/pg/pg.sh" pause "$PGDIR" || fail "cannot stop the server"
wait_log 'leases: cannot renew in '
wait_log "agent w\\.0 \\(pid $pid1\\): lease of thread outage not renewed since [0-9.]*s: .*; stopping it" 1 20
wait_log 'agent w\.0: STOPPING -> ELSEWHERE: lease of thread outage not renewed' 1 20
pids_gone 10 "$pid1" || fail "the worker outlived its lease"
# corrald still supervises: the control socket answers within its limits.
st=$(ctl status --json w | json_get 'j["workers"][0]["state"]')
assert_eq "$st" ELSEWHERE "state during the outage"
ctl status w | grep -q 'lease of thread outage' || fail "status does not say why: $(ctl status w)"

# The database is back: a new take, a new token, a new run.
sh "$TOP/tests/pg/pg.sh" resume "$PGDIR" || fail "cannot start the server again"
wait_log 'agent w\.0: ELSEWHERE -> STARTING' 1 30
wait_log 'agent w\.0: STARTING -> RUNNING' 2 20
tok2=$(ctl status --json w | json_get 'j["workers"][0]["lease"]["token"]')
[ "$tok2" -gt "$tok1" ] || fail "the token after the outage ($tok2) is not past $tok1"

# The database made anew under the node (restored from an old dump, say):
# corrald says so, opens it again, which makes the tables, and the worker
# runs on under a lease in the new table.
psql -X -q -v ON_ERROR_STOP=1 "$PGDB" -c "DROP TABLE corral_leases, \
    corral_checkpoints, corral_writes, corral_schema" >/dev/null ||
    fail "cannot drop the tables"
wait_log 'leases: the table corral_leases is missing from ' 1 20
wait_log 'agent w\.0: STARTING -> RUNNING' 3 20
tok3=$(ctl status --json w | json_get 'j["workers"][0]["lease"]["token"]')
assert_eq "$tok3" 1 "the token in the new table"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
# The lease was released at the clean stop.
left=$(psql -X -A -t -q "$PGDB" -c "SELECT count(*) FROM corral_leases") ||
    fail "cannot read corral_leases"
assert_eq "$left" 0 "leases left after the stop"
echo "outage: worker stopped before its lease could expire, restarted under token $tok2 (was $tok1); tables made again"
