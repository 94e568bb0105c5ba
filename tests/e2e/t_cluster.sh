# A cluster's breaker: failures of its members within failure_window open
# it; every member's restarts are held while a healthy member keeps its
# process; a trial that fails reopens it, one that stays healthy closes it
# and the held members start.  The cluster's health follows (HEALTHY,
# DEGRADED, CRITICAL below min_healthy), on_state_change hears of every
# change with NAME OLD NEW and its output lands in corrald's log, and
# corralctl reset CLUSTER closes it with who and why recorded.
. "$(dirname "$0")/lib.sh"

cat >"$T/hook.sh" <<'EOF2'
#!/bin/sh
echo "$CORRAL_CLUSTER $CORRAL_CHANGE $1 $2 $3" >>"$HOOK_OUT"
echo "hook saw $1 $2 -> $3"
EOF2
chmod +x "$T/hook.sh"
export HOOK_OUT="$T/hook.out"

conf <<EOF2
[defaults]
backoff_initial = 50ms
backoff_max = 50ms
healthy_after = 300ms
; only the cluster's breaker acts here
failure_threshold = 1000

[cluster:crew]
failure_threshold = 3
failure_window = 10s
recovery_timeout = 1s
half_open_max_calls = 1
min_healthy = 1
on_state_change = $T/hook.sh

[agent:steady]
command = $TW sleep
cluster = crew

[agent:shaky]
command = sh -c 'test -e $T/ok || exit 1; exec $TW sleep'
cluster = crew
numprocs = 2
autostart = false
EOF2
start_corrald
wait_log 'agent steady.0: STARTING -> RUNNING'
steady=$(ctl status --json steady | json_get 'j["workers"][0]["pid"]')
ctl start shaky >/dev/null 2>&1
wait_log 'cluster crew: breaker CLOSED -> OPEN: failure threshold reached for 1.000s'
wait_log 'agent shaky.[01]: [A-Z]+ -> HELD: cluster crew breaker open' 2
wait_log 'cluster crew: HEALTHY -> DEGRADED \([0-9] up, [0-9] down, min_healthy 1\)'
wait_log 'cluster crew: on_state_change: hook saw crew CLOSED -> OPEN'
wait_log 'cluster crew: on_state_change: hook saw crew HEALTHY -> DEGRADED'
ctl status >table || fail "status"
grep -q '^crew  *DEGRADED  *OPEN  *1  *1  *one_for_one$' table ||
    fail "status table lacks the cluster: $(cat table)"
assert_eq "$(ctl status --json | json_get '[(c["name"], c["health"], c["breaker"], c["up"], c["down"]) for c in j["clusters"]]')" \
    "[('crew', 'DEGRADED', 'OPEN', 1, 2)]" "clusters in status --json"

# Half-open: one trial, which fails: open again, for 2s +-25%.
wait_log 'cluster crew: breaker OPEN -> HALF_OPEN: recovery timeout over'
wait_log 'cluster crew: breaker HALF_OPEN -> OPEN: trial failed for [0-9.]+s'
reopen=$(sed -n 's/.*cluster crew: breaker HALF_OPEN -> OPEN: trial failed for \([0-9.]*\)s.*/\1/p' "$LOG" | head -n 1)
awk -v r="$reopen" 'BEGIN { exit !(r >= 1.45 && r <= 2.55) }' || fail "reopened for ${reopen}s, expected 2s +-25%"
grep -q 'agent shaky: breaker' "$LOG" && fail "the agent's breaker acted"

# The trial stays healthy: closed, the other member starts, all healthy.
touch "$T/ok"
wait_log 'cluster crew: breaker HALF_OPEN -> CLOSED: trial succeeded' 1 20
wait_log 'agent shaky.[01]: STARTING -> RUNNING' 2 20
wait_log 'cluster crew: DEGRADED -> HEALTHY \(3 up\)'
assert_eq "$(ctl status --json steady | json_get 'j["workers"][0]["pid"]')" "$steady" "steady's pid through it all"
wait_log 'cluster crew: on_state_change: hook saw crew DEGRADED -> HEALTHY'

# Below min_healthy: CRITICAL.  Then a human's reset of the open cluster.
rm "$T/ok"
ctl stop steady >/dev/null || fail "stop steady"
ctl restart shaky >/dev/null 2>&1
wait_log 'cluster crew: breaker CLOSED -> OPEN' 2
wait_log 'cluster crew: [A-Z]+ -> CRITICAL \(0 up, 2 down, min_healthy 1\)'
touch "$T/ok"
assert_eq "$(ctl reset crew --reason 'api key rotated')" "breaker of crew closed (was OPEN)" "reset reply"
wait_log 'agent shaky.[01]: STARTING -> RUNNING' 4 20
wait_log 'cluster crew: CRITICAL -> DEGRADED|cluster crew: CRITICAL -> HEALTHY'
"$BUILD/helpers/waitlog" "$LOG" 'hook saw crew OPEN -> CLOSED' 1 10000 ||
    fail "on_state_change did not hear of the reset"
ctl history crew >hist || fail "history of a cluster"
grep -q 'breaker CLOSED -> OPEN: failure threshold reached' hist || fail "history lacks the cluster's breaker: $(cat hist)"
grep -q 'health HEALTHY -> DEGRADED: ' hist || fail "history lacks the cluster's health: $(cat hist)"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='breaker' AND agent='crew' AND state='CLOSED' AND detail LIKE 'reset by uid % (pid %): api key rotated'")" 1 "the reset's record"
assert_eq "$(q "SELECT prev_state || '>' || state FROM events WHERE kind='health' AND agent='crew' ORDER BY id LIMIT 1")" "HEALTHY>DEGRADED" "first health event"
# The hook ran with NAME OLD NEW, its kind and cluster in the environment,
# one at a time and in order.
grep -q '^crew breaker crew CLOSED OPEN$' "$HOOK_OUT" || fail "hook.out: $(cat "$HOOK_OUT")"
grep -q '^crew health crew HEALTHY DEGRADED$' "$HOOK_OUT" || fail "hook.out: $(cat "$HOOK_OUT")"
first=$(grep -n 'health crew HEALTHY DEGRADED' "$HOOK_OUT" | head -n 1 | cut -d: -f1)
back=$(grep -n 'health crew DEGRADED HEALTHY' "$HOOK_OUT" | head -n 1 | cut -d: -f1)
[ "$first" -lt "$back" ] || fail "hook runs out of order: $(cat "$HOOK_OUT")"

# A hook that fails or cannot run is logged, and corrald goes on.
conf <<EOF2
[cluster:c]
failure_threshold = 1
recovery_timeout = 1h
on_state_change = $T/missing-hook

[agent:a]
command = $TW -d 20 exit 1
cluster = c
backoff_initial = 50ms
EOF2
start_corrald
wait_log 'cluster c: breaker CLOSED -> OPEN'
wait_log 'cluster c: cannot run on_state_change: exec: No such file or directory'
ctl status >/dev/null || fail "corrald stopped answering"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

# Breakers off: a cluster's breaker never holds its members either.
conf <<EOF2
[cluster:c]
failure_threshold = 1

[agent:a]
command = $TW -d 20 exit 1
cluster = c
backoff_initial = 50ms
backoff_max = 50ms
EOF2
CIRCUIT_BREAKER_ENABLED=false start_corrald
wait_log 'agent a.0: BACKOFF -> STARTING' 4
grep -qE 'HELD|breaker [A-Z_]+ ->' "$LOG" && fail "a breaker acted while disabled"
assert_eq "$(ctl status --json | json_get 'j["clusters"][0]["breaker"]')" OFF "cluster breaker in status"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

# A reload that takes a trial's agent out of its cluster: the trial's slot
# goes back, and corrald carries on when the trial then fails.
conf <<EOF2
[defaults]
backoff_initial = 50ms
backoff_max = 50ms
failure_threshold = 1000

[cluster:crew]
failure_threshold = 1
recovery_timeout = 500ms
half_open_max_calls = 1

[agent:a]
command = sh -c 'test -e $T/ok4 || exit 1; exec $TW sleep'
cluster = crew
healthy_after = 10s
EOF2
start_corrald
wait_log 'cluster crew: breaker CLOSED -> OPEN'
touch "$T/ok4"
wait_log 'cluster crew: breaker OPEN -> HALF_OPEN'
wait_log 'agent a.0: HELD -> STARTING'
sed -i '/^cluster = crew$/d' "$T/corral.ini"
ctl reload >/dev/null || fail "reload"
kill -KILL "$(ctl status --json a | json_get 'j["workers"][0]["pid"]')"
wait_log 'agent a.0: BACKOFF -> STARTING' 1 10
ctl status >/dev/null || fail "corrald stopped answering after the reload"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

# A hook that leaves a child writing to its output forever (outside its
# process group): corrald reads what it can, closes, and goes on.
cat >"$T/flood.sh" <<EOF2
#!/bin/sh
setsid sh -c 'echo \$\$ >$T/writer.pid; exec yes flood' &
sleep 0.3
EOF2
chmod +x "$T/flood.sh"
conf <<EOF2
[cluster:c]
on_state_change = $T/flood.sh

[agent:a]
command = $TW -d 300 exit 1
cluster = c
backoff_initial = 5s
healthy_after = 100ms
EOF2
start_corrald
wait_log 'cluster c: on_state_change: flood'
"$BUILD/helpers/waitlog" "$T/writer.pid" '^[0-9]+$' 1 5000 || fail "the hook's writer did not start"
STRAYS=$(cat "$T/writer.pid")
ctl status >/dev/null || fail "corrald stopped answering with a flooding hook"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
