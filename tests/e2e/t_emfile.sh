# Out of descriptors while it runs (its soft limit lowered under what it
# has open), corrald neither spins nor floods its log: workers that
# crash cannot be respawned (no pipes), back off on corrald's own backoff
# (1 s doubling, not the agent's 100 ms) and it is said once; a control
# client that cannot be accepted waits in the listen queue (the listener
# paused, said once).  Once descriptors are back, the client is answered,
# the workers run again, and each recovery is said once.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:w]
command = $TW sleep
numprocs = 20
backoff_initial = 100ms
backoff_max = 100ms
healthy_after = 100ms
failure_threshold = 1000
EOF2
: >"$LOG"
prlimit --nproc=4096 -- "$CORRALD" -c "$T/corral.ini" >>"$LOG" 2>&1 &
CPID=$!
wait_log 'agent w\.[0-9]+: STARTING -> RUNNING' 20
pids=$(ctl status --json | json_get '" ".join(str(w["pid"]) for w in j["workers"][:5])')
# A limit of 10: descriptors 0 to 9 are corrald's own from its start (stdio,
# event loop, state database), never closed, so no new one can be had.
prlimit --pid "$CPID" --nofile=10: || fail "prlimit"
for p in $pids; do kill -KILL "$p"; done
wait_log 'agent w\.[0-9]+: cannot fork or make its pipes'
"$CTL" -s "$SOCK" status >st 2>&1 &
client=$!
# A window of 3 s: one message each, a few state changes, no storm.
lines=$(wc -l <"$LOG")
cpu=$(awk '{ print $14 + $15 }' "/proc/$CPID/stat")
sleep 3
lines2=$(wc -l <"$LOG")
cpu2=$(awk '{ print $14 + $15 }' "/proc/$CPID/stat")
# (At most 3 attempts of each of 5 workers, 2 lines each, and the two
# messages; the agent's 100 ms backoff would make 150 attempts.)
[ "$((lines2 - lines))" -le 32 ] || fail "$((lines2 - lines)) log lines in 3 s without descriptors"
[ "$((cpu2 - cpu))" -le 60 ] || fail "corrald spun: $((cpu2 - cpu)) ticks of CPU in 3 s"
assert_eq "$(grep -c 'cannot fork or make its pipes: Too many' "$LOG")" 1 "spawn shortage messages"
assert_eq "$(grep -c 'control socket: cannot accept a connection: Too many' "$LOG")" 1 "accept shortage messages"
grep -q 'Error from accept' "$LOG" && fail "libevent's accept warnings"
kill -0 "$client" 2>/dev/null || fail "the client was not kept waiting: $(cat st)"
# Descriptors back: the client is answered, the workers run again.
prlimit --pid "$CPID" --nofile=4096: || fail "prlimit"
wait "$client" || fail "status after the shortage: $(cat st)"
grep -q '^w\.0 ' st || fail "status: $(cat st)"
wait_log 'control socket: accepting connections again \([0-9]+ attempts failed\)'
wait_log 'spawned; workers start again after [0-9]+ failed attempts' 1 30
wait_log 'agent w\.[0-9]+: BACKOFF -> STARTING' 5 30
i=0
until [ "$(ctl status --json | json_get 'sum(w["state"] == "RUNNING" for w in j["workers"])')" = 20 ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "not every worker RUNNING again: $(ctl status)"
	sleep 0.1
done
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
