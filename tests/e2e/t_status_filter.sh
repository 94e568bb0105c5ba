# corralctl status --state picks workers by state (any case, held and
# failed as docs/CONTROL.md defines them, combined with targets), an
# unknown state is named with the valid ones, the table has a BREAKER
# column, and status exits 3 for scripts when a worker named is not
# RUNNING or --state matched nothing (0 without targets or --state), as
# is-active and is-failed do.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:up]
command = $TW sleep
numprocs = 2
healthy_after = 100ms

[agent:crashy]
command = $TW -d 50 signal 11
healthy_after = 1s
backoff_initial = 100ms
backoff_max = 100ms
failure_threshold = 2

[agent:doomed]
command = $TW exit 1
healthy_after = 1s
backoff_initial = 100ms
max_retries = 1

[agent:idle]
command = $TW sleep
autostart = false
EOF2
start_corrald
wait_log 'agent up\.1: STARTING -> RUNNING'
wait_log 'agent crashy\.0: STARTING -> HELD: breaker open'
wait_log 'agent doomed\.0: STARTING -> FATAL'
ctl stop up:1 >/dev/null || fail "stop up:1"

names() { ctl status --json "$@" | json_get '",".join(w["name"] for w in j["workers"])'; }
assert_eq "$(names --state running)" "up.0" "--state running"
assert_eq "$(names --state RUNNING)" "up.0" "--state RUNNING (any case)"
assert_eq "$(names --state=Fatal)" "doomed.0" "--state=Fatal"
assert_eq "$(names --state stopped)" "up.1,idle.0" "--state stopped"
assert_eq "$(names --state held)" "up.1,crashy.0" "--state held (by the operator or a breaker)"
assert_eq "$(names --state failed)" "crashy.0,doomed.0" "--state failed"
assert_eq "$(names --state running,failed)" "up.0,crashy.0,doomed.0" "a list is a union"
assert_eq "$(names --state running --state fatal)" "up.0,doomed.0" "--state twice"
assert_eq "$(names --state stopped up)" "up.1" "--state and a target"
assert_eq "$(names up --state running)" "up.0" "options after a target"

# The table: filtered too, with the breaker of each agent.
ctl status --state failed,running >table
rc=$?
cat table
assert_eq "$rc" 0 "exit status of --state that matched"
head -n 1 table | grep -q '^NAME  *STATE  *PID  *UPTIME  *CPU  *MEM  *RESTARTS  *FAILURES  *BREAKER  *LAST EXIT$' ||
    fail "no BREAKER column: $(head -n 1 table)"
grep -q '^up\.0  *RUNNING .* CLOSED  *-$' table || fail "up.0's row: $(cat table)"
grep -q '^crashy\.0  *HELD .* OPEN  *crash (SIGSEGV)$' table || fail "crashy.0's row: $(cat table)"
grep -q '^doomed\.0  *FATAL .* CLOSED  *error (1)$' table || fail "doomed.0's row: $(cat table)"
assert_eq "$(wc -l <table)" 4 "rows of --state failed,running"

# An unknown state: named, with every valid one.
out=$(ctl status --state runing 2>&1)
assert_eq "$?" 1 "exit status of an unknown state"
assert_eq "$out" "corralctl: --state: unknown state 'runing' (stopped, starting, running, backoff, stopping, exited, fatal, held, degraded, limited, elsewhere, waiting, failed)" "unknown state"
out=$(ctl status --state 2>&1) && fail "--state without a value: $out"

# Exit status: 0 when every worker named runs, 3 otherwise, the table
# printed all the same; 0 without targets; --state: 3 when none matched.
ctl status >/dev/null
assert_eq "$?" 0 "status without targets"
ctl status up:0 >/dev/null
assert_eq "$?" 0 "status of a running worker"
ctl status all >/dev/null
assert_eq "$?" 3 "status all, some not running"
ctl status up >out
assert_eq "$?" 3 "status of an agent with a stopped instance"
grep -q '^up\.1 ' out || fail "the table with exit 3: $(cat out)"
ctl status --json doomed >/dev/null
assert_eq "$?" 3 "status --json of a FATAL worker"
ctl status --state backoff >out
assert_eq "$?" 3 "--state that matched nothing"
assert_eq "$(wc -l <out)" 1 "the header alone when nothing matched"
ctl status --state stopped up >/dev/null
assert_eq "$?" 0 "--state that matched, whatever the state"
# is-active and is-failed: the verdict alone, systemctl's way.
out=$(ctl is-active up:0)
assert_eq "$?:$out" "0:active" "is-active of a running worker"
out=$(ctl is-active up)
assert_eq "$?:$out" "3:inactive" "is-active of an agent with a stopped instance"
out=$(ctl is-active)
assert_eq "$?:$out" "3:inactive" "is-active of all"
out=$(ctl is-failed crashy up)
assert_eq "$?:$out" "0:failed" "is-failed of a HELD worker after a crash"
out=$(ctl is-failed up)
assert_eq "$?:$out" "3:not failed" "is-failed of workers that did not fail"
ctl is-active --json up >/dev/null 2>&1
assert_eq "$?" 2 "is-active takes no options"
ctl start up:1 >/dev/null || fail "start up:1"
ctl status up >/dev/null
assert_eq "$?" 0 "status of an agent whose instances all run"
assert_eq "$(ctl is-active up)" active "is-active of an agent whose instances all run"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
"$CTL" -s "$SOCK" status up:0 2>/dev/null
assert_eq "$?" 3 "status when corrald is gone"
echo "--state filtered, unknown states named, BREAKER shown, exit 3 when not running"
