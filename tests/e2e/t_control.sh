# corralctl drives corrald: status as a table and as JSON, start, stop and
# restart of an agent, an instance, a cluster and all, each waiting for the
# outcome; an operator's stop is no failure and survives corrald's restart.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[defaults]
healthy_after = 200ms
backoff_initial = 100ms
backoff_max = 100ms

[cluster:team]

[agent:lead]
command = $TW sleep
cluster = team

[agent:worker]
command = $TW sleep
numprocs = 3
cluster = team

[agent:solo]
command = $TW sleep

[agent:broken]
command = $TW -d 50 exit 3
autostart = false
EOF2
start_corrald
wait_log 'STARTING -> RUNNING' 5

ctl status >table || fail "status failed"
cat table
assert_eq "$(head -n 1 table | tr -s ' ')" "NAME STATE PID UPTIME CPU MEM RESTARTS FAILURES BREAKER LAST EXIT" "table header"
assert_eq "$(grep -c ' RUNNING ' table)" 5 "RUNNING rows"
grep -q '^broken.0 *STOPPED ' table || fail "broken.0 not STOPPED in the table"
ctl status --json >json || fail "status --json failed"
assert_eq "$(json_get 'len(j["workers"])' <json)" 6 "workers in JSON"
assert_eq "$(json_get '[w["state"] for w in j["workers"] if w["name"]=="worker.2"][0]' <json)" RUNNING "worker.2 state"
pid=$(json_get '[w["pid"] for w in j["workers"] if w["name"]=="worker.1"][0]' <json)
assert_eq "$(q "SELECT pid FROM events WHERE kind='spawn' AND agent='worker' AND instance=1")" "$pid" "pid in JSON"
assert_eq "$(ctl status --json solo | json_get 'j["workers"][0]["name"]')" solo.0 "status of one agent"

# An instance: stop waits for the exit, the exit is 'stopped', no chain.
assert_eq "$(ctl stop worker:1)" "1 stopped" "stop worker:1"
assert_eq "$(q "SELECT class || '|' || coalesce(chain, 'none') FROM events WHERE kind='exit' AND agent='worker' AND instance=1")" "stopped|none" "operator stop recorded"
ctl status worker:1 | grep -q '^worker.1 *STOPPED\* ' || fail "worker.1 not shown as held"
# A cluster: restart gives every member a new pid, worker.1 included.
before=$(ctl status --json team | json_get '" ".join(str(w["pid"]) for w in j["workers"] if w["pid"])')
assert_eq "$(ctl restart team)" "4 running" "restart team"
after=$(ctl status --json team | json_get '" ".join(str(w["pid"]) for w in j["workers"])')
for p in $before; do
	case " $after " in *" $p "*) fail "pid $p survived the restart" ;; esac
done
assert_eq "$(ctl status --json team | json_get 'sorted(set(w["state"] for w in j["workers"]))')" "['RUNNING']" "team after restart"
# A start that fails is reported as such, exit 1, with the reason.
ctl start broken >out 2>err
assert_eq "$?" 1 "exit status of a failing start"
grep -q "broken.0 is BACKOFF, last exit error (3)" err || fail "failing start: $(cat err)"
ctl stop --no-wait broken >/dev/null || fail "stop --no-wait"
# Bad targets and usage.
ctl stop wroker 2>err
assert_eq "$?" 1 "exit status for an unknown target"
grep -q "no agent or cluster 'wroker'; did you mean 'worker'?" err || fail "did-you-mean: $(cat err)"
ctl start worker:7 2>err
grep -q "agent 'worker' has no instance 7" err || fail "bad instance: $(cat err)"
"$CTL" -s "$T/nowhere.sock" status 2>err
assert_eq "$?" 3 "exit status when corrald is unreachable"
grep -q "cannot reach corrald at $T/nowhere.sock" err || fail "unreachable message"
"$CTL" 2>/dev/null
assert_eq "$?" 2 "exit status on usage error"
# The socket: mode 0600.
assert_eq "$(stat -c %a "$SOCK")" 600 "socket mode"

# Stop solo, restart corrald: solo stays stopped, the rest comes back.
ctl stop solo >/dev/null
ctl stop broken >/dev/null
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
[ ! -e "$SOCK" ] || fail "socket left behind"
start_corrald
wait_log 'agent solo.0: stopped by the operator, not started'
wait_log 'STARTING -> RUNNING' 4
assert_eq "$(ctl status --json | json_get '",".join(w["name"] for w in j["workers"] if w["state"]=="STOPPED")')" "solo.0,broken.0" "stopped after restart"
assert_eq "$(ctl start solo)" "1 running" "start solo"
assert_eq "$(ctl shutdown)" "corrald stopped" "shutdown"
wait "$CPID"
assert_eq "$?" 0 "corrald exit status after shutdown"
CPID=
