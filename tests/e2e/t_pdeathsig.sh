# If corrald dies without warning (SIGKILL), each worker receives its
# stop_signal from the kernel (PR_SET_PDEATHSIG), so none runs on orphaned.
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
EOF2
start_corrald
wait_log 'STARTING -> RUNNING' 4
pids=$(q "SELECT pid FROM events WHERE kind='spawn'")
STRAYS=$pids
kill -KILL "$CPID"
wait "$CPID" 2>/dev/null
CPID=
# Orphans are reaped by init (or whoever adopts them); they must be gone.
pids_gone 10 $pids || fail "workers outlived corrald"
