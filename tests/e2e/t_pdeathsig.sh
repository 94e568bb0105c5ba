# If corrald dies without warning (SIGKILL), each worker receives its
# stop_signal from the kernel (PR_SET_PDEATHSIG), so none runs on orphaned;
# and corrald's watcher, which outlives it, sends SIGKILL to what is still
# running after its stop_timeout (a worker that ignores its stop signal,
# and the rest of its process group), then exits, whether or not corrald
# comes back.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:term]
command = $TW sleep
numprocs = 3
healthy_after = 100ms

[agent:int]
command = sh -c 'trap "exit 0" INT; while :; do sleep 0.05; done'
stop_signal = INT
healthy_after = 100ms

[agent:ignorer]
command = $TW ignore-term
healthy_after = 100ms
stop_timeout = 1s

[agent:deaf]
command = $TW -d 60000 grandchild $T/gc.pid
healthy_after = 100ms
stop_signal = TERM
stop_timeout = 1s
EOF2
start_corrald
wait_log 'STARTING -> RUNNING' 6
wait_log 'watcher started \(pid [0-9]+\)'
watcher=$(sed -n 's/.*watcher started (pid \([0-9]*\)).*/\1/p' "$LOG")
pids=$(q "SELECT pid FROM events WHERE kind='spawn' AND agent IN ('term', 'int')")
ignorer=$(q "SELECT pid FROM events WHERE kind='spawn' AND agent = 'ignorer'")
deaf=$(q "SELECT pid FROM events WHERE kind='spawn' AND agent = 'deaf'")
gc=$(cat "$T/gc.pid")
STRAYS="$pids $ignorer $deaf $gc $watcher"
kill -KILL "$CPID"
wait "$CPID" 2>/dev/null
CPID=
# Orphans are reaped by init (or whoever adopts them); they must be gone.
pids_gone 10 $pids || fail "workers outlived corrald"
# The grandchild ignores SIGTERM: only the watcher's KILL ends it, and the
# worker's 60 s nap with it.
pids_exited 10 "$ignorer" "$deaf" "$gc" || fail "a worker deaf to its stop signal outlived corrald"
pids_exited 10 "$watcher" || fail "the watcher did not exit"
