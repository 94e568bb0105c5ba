# Started with a soft descriptor limit of 64 under a hard one of 4096,
# corrald raises its soft limit to the hard one, says so with what the fleet
# needs, and runs all of its 100 workers; the workers get the soft limit
# corrald started with, also those spawned by the image a reexec made.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:w]
command = $TW sleep
numprocs = 100
healthy_after = 100ms
EOF2
: >"$LOG"
prlimit --nofile=64:4096 --nproc=4096 -- "$CORRALD" -c "$T/corral.ini" \
    >>"$LOG" 2>&1 &
CPID=$!
wait_log 'agent w\.[0-9]+: STARTING -> RUNNING' 100 60
wait_log '100 of 100 workers started; ready'
grep -q 'LIMITED\|cannot fork\|cannot open log' "$LOG" && fail "a worker was limited"

soft() { sed -n 's/^Max open files *\([0-9]*\) *\([0-9]*\).*/\1 \2/p' "/proc/$1/limits"; }
assert_eq "$(soft "$CPID")" "4096 4096" "corrald's limits"
pid() { ctl status --json | json_get '[w["pid"] for w in j["workers"] if w["name"] == "w.7"][0]'; }
assert_eq "$(soft "$(pid)")" "64 4096" "a worker's limits"
# The next image does not take the raised limit for the one to give.
ctl reexec >out 2>&1 || fail "reexec: $(cat out)"
assert_eq "$(soft "$CPID")" "4096 4096" "corrald's limits after the reexec"
ctl restart w:7 >out 2>&1 || fail "restart: $(cat out)"
assert_eq "$(soft "$(pid)")" "64 4096" "a worker's limits after the reexec"

# Said, with what the fleet needs.
grep -q 'open file limit raised from 64 to 4096 (the hard limit); workers get 64' "$LOG" ||
    fail "the raise is not logged"
grep -qE 'file descriptors: the fleet needs [0-9]+, the limit is 4096' "$LOG" ||
    fail "the need is not logged"
ctl status --json >js || fail "status --json"
assert_eq "$(json_get 'j["limits"]["fd_limit"], j["limits"]["workers_fit"], j["limits"]["workers_limited"], j["limits"]["message"]' <js)" \
    "4096 100 0 None" "limits in status --json"
need=$(json_get 'j["limits"]["fds_needed"]' <js)
[ "$need" -gt 400 ] && [ "$need" -lt 4096 ] || fail "the fleet needs $need"

stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
