# A cluster's restart strategy, as in OTP.  one_for_all: the coordinator's
# crash stops its workers, and all start again together after its backoff,
# the coordinator first.  rest_for_one: a member's crash restarts the
# members after it in start order, not those before.  one_for_one (the
# default): nobody else moves.  Workers stopped by a strategy exit as
# "stopped", not as failures.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[defaults]
backoff_initial = 500ms
backoff_max = 500ms
healthy_after = 200ms

[cluster:team]
strategy = one_for_all

[agent:coord]
command = $TW sleep
cluster = team
priority = 10

[agent:helper]
command = $TW sleep
cluster = team
numprocs = 2
priority = 20

[cluster:rest]
strategy = rest_for_one

[agent:first]
command = $TW sleep
cluster = rest
priority = 30

[agent:middle]
command = $TW sleep
cluster = rest
priority = 40

[agent:last]
command = $TW sleep
cluster = rest
priority = 50

[cluster:one]

[agent:left]
command = $TW sleep
cluster = one
priority = 60

[agent:right]
command = $TW sleep
cluster = one
priority = 70
EOF2
start_corrald
wait_log 'STARTING -> RUNNING' 8
pids() { ctl status --json | json_get '" ".join("%s=%s" % (w["name"], w["pid"]) for w in j["workers"])'; }
pid_of() { ctl status --json "$1" | json_get 'j["workers"][0]["pid"]'; }

# one_for_all
before=$(pids)
kill -KILL "$(pid_of coord)"
wait_log 'cluster team: one_for_all: coord.0 failed; 2 workers stopped to restart with it'
wait_log 'agent helper.[01]: STOPPING -> BACKOFF: restarts with cluster team \(one_for_all\)' 2
wait_log 'agent coord.0: STARTING -> RUNNING' 2 10
wait_log 'agent helper.[01]: STARTING -> RUNNING' 4 10
# In start order: the coordinator's spawn comes before its helpers'.
grep -n 'BACKOFF -> STARTING' "$LOG" | grep -E 'coord.0|helper.[01]' >order
assert_eq "$(sed -n 's/.*agent \([a-z]*\)\.[0-9]*:.*/\1/p' order | tr '\n' ' ')" "coord helper helper " "restart order"
after=$(pids)
for w in coord.0 helper.0 helper.1; do
	b=$(echo "$before" | tr ' ' '\n' | grep "^$w=")
	a=$(echo "$after" | tr ' ' '\n' | grep "^$w=")
	[ "$b" != "$a" ] || fail "$w kept its pid under one_for_all"
done
for w in first.0 middle.0 last.0 left.0 right.0; do
	b=$(echo "$before" | tr ' ' '\n' | grep "^$w=")
	a=$(echo "$after" | tr ' ' '\n' | grep "^$w=")
	assert_eq "$a" "$b" "$w outside the cluster"
done

# rest_for_one
before=$(pids)
kill -KILL "$(pid_of middle)"
wait_log 'cluster rest: rest_for_one: middle.0 failed; 1 worker stopped to restart with it'
wait_log 'agent last.0: STARTING -> RUNNING' 2 10
wait_log 'agent middle.0: STARTING -> RUNNING' 2 10
after=$(pids)
assert_eq "$(echo "$after" | tr ' ' '\n' | grep '^first.0=')" "$(echo "$before" | tr ' ' '\n' | grep '^first.0=')" "first, before middle"
[ "$(echo "$after" | tr ' ' '\n' | grep '^last.0=')" != "$(echo "$before" | tr ' ' '\n' | grep '^last.0=')" ] ||
    fail "last kept its pid under rest_for_one"

# one_for_one
before=$(pids)
kill -KILL "$(pid_of left)"
wait_log 'agent left.0: STARTING -> RUNNING' 2 10
after=$(pids)
assert_eq "$(echo "$after" | tr ' ' '\n' | grep '^right.0=')" "$(echo "$before" | tr ' ' '\n' | grep '^right.0=')" "right under one_for_one"
grep -q 'cluster one: .*stopped to restart' "$LOG" && fail "one_for_one restarted others"

stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
# The workers a strategy stopped were stopped, not failed.
assert_eq "$(q "SELECT group_concat(class, ',') FROM (SELECT class FROM events WHERE kind='exit' AND agent='helper' ORDER BY id LIMIT 2)")" "stopped,stopped" "helpers' exits"
assert_eq "$(q "SELECT class FROM events WHERE kind='exit' AND agent='coord' ORDER BY id LIMIT 1")" killed "coord's exit"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='exit' AND agent='first'")" 1 "first's exits (the shutdown's)"

# A group restart pending across a reexec still starts together, in order.
conf <<EOF2
[cluster:team]
strategy = one_for_all

[agent:coord]
command = $TW sleep
cluster = team
priority = 10
backoff_initial = 2s
backoff_max = 2s
backoff_jitter = 0
healthy_after = 100ms

; Slow to stop: still stopping when corrald re-executes.
[agent:helper]
command = $TW ignore-term
cluster = team
priority = 20
healthy_after = 100ms
stop_timeout = 1s
EOF2
start_corrald
wait_log 'agent helper.0: STARTING -> RUNNING'
kill -KILL "$(pid_of coord)"
wait_log 'cluster team: one_for_all: coord.0 failed'
ctl reexec >/dev/null || fail "reexec"
wait_log 're-executed'
wait_log 'agent helper.0: STOPPING -> BACKOFF: restarts with cluster team' 1 10
wait_log 'agent helper.0: BACKOFF -> STARTING' 1 10
c=$(grep -n 'agent coord.0: BACKOFF -> STARTING' "$LOG" | tail -n 1 | cut -d: -f1)
h=$(grep -n 'agent helper.0: BACKOFF -> STARTING' "$LOG" | tail -n 1 | cut -d: -f1)
[ -n "$c" ] && [ "$c" -lt "$h" ] || fail "after the reexec the group did not start coord first"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
