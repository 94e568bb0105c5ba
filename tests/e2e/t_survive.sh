# corrald's own unplanned death (SIGKILL) never leaves two live runs of one
# instance: a corrald started again at once first finds each run the dead
# one left alive (a worker slow to stop, one that ignores its stop signal,
# a grandchild that left its process group), stops it (stop signal, KILL
# after stop_timeout), records its end, and only then starts that
# instance; runs that ended meanwhile are recorded as such.  Both ways of
# containing a run are exercised: process groups (cgroup = off) and, when
# this machine lets corrald make them, a cgroup per run.  The first time
# corrald's watcher dies with it (pkill -9 corrald takes both), so the new
# corrald sends the KILL itself; the second time the watcher outlives it
# and may be the one that sends it.
. "$(dirname "$0")/lib.sh"

# run_case MODE KILL_WATCHER: MODE is off or auto.
run_case() {
	mode=$1
	kill_watcher=$2
	rm -f "$DB" "$DB"-wal "$DB"-shm "$T"/*.pid
	conf <<EOF2
[corrald]
cgroup = $mode

[agent:slow]
command = $TW -d 3000 slow-term $T/slow.%(instance).pid
numprocs = 2
healthy_after = 100ms
stop_timeout = 5s

[agent:deaf]
command = $TW ignore-term
healthy_after = 100ms
stop_timeout = 1s

[agent:esc]
command = $TW escape $T/esc.pid
healthy_after = 100ms
stop_timeout = 1s

[agent:quick]
command = $TW sleep
healthy_after = 100ms
EOF2
	# conf wrote a [corrald] of its own first: keep one section.
	awk 'BEGIN{n=0} /^\[corrald\]$/{n++; if(n==2) next} {print}' \
	    "$T/corral.ini" >"$T/c2" && mv "$T/c2" "$T/corral.ini"
	start_corrald
	wait_log 'STARTING -> RUNNING' 5
	pid_of() { q "SELECT pid FROM events WHERE kind='spawn' AND agent='$1' AND instance=$2"; }
	esc=$(cat "$T/esc.pid")
	deaf=$(pid_of deaf 0)
	slow0=$(pid_of slow 0)
	slow1=$(pid_of slow 1)
	quick=$(pid_of quick 0)
	STRAYS="$esc $deaf $slow0 $slow1 $quick"
	watcher=$(sed -n 's/.*watcher started (pid \([0-9]*\)).*/\1/p' "$LOG")
	STRAYS="$STRAYS $watcher"
	if [ "$kill_watcher" = yes ]; then
		kill -KILL "$CPID" "$watcher"
	else
		kill -KILL "$CPID"
	fi
	wait "$CPID" 2>/dev/null
	# The kernel's PDEATHSIG: quick stops at once, slow takes 3 s,
	# deaf and the escaped grandchild do not stop.  Whoever adopted quick
	# may reap it late: ended is gone or a zombie.
	i=0
	while [ -e "/proc/$quick" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$quick/stat" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 250 ] || fail "quick ($quick) outlived corrald"
		sleep 0.02
	done
	grep -q '^[0-9]* (.*) [SR]' "/proc/$slow0/stat" || fail "slow.0 ($slow0) ended early"
	CPID=
	LOG="$T/corrald2.log"
	start_corrald
	# While they are stopped a reexec is refused: the next image would
	# not know them.
	wait_log 'agent slow.0: its run .* outlived the corrald before'
	out=$(ctl reexec 2>&1) && fail "$mode: a reexec was accepted while earlier runs were stopping"
	case "$out" in *"runs a dead corrald left are still being stopped"*) ;;
		*) fail "$mode: reexec refused for another reason: $out" ;; esac
	wait_log 'STARTING -> RUNNING' 5
	# Never two live runs of one instance: by the time each new run is
	# up, the one before it has exited.
	pids_exited 0 "$deaf" || fail "$mode: two live runs of deaf.0"
	pids_exited 0 "$slow0" "$slow1" || fail "$mode: two live runs of slow"
	# The log says which it did, per worker, in that order.
	for a in slow.0 slow.1 deaf.0; do
		grep -q "agent $a: its run (pid [0-9]*, [0-9]* process.*) outlived the corrald before; stopping it" "$LOG" ||
		    fail "$mode: $a's earlier run not found"
		gone=$(grep -n "agent $a: the run left alive (pid [0-9]*) is gone" "$LOG" | cut -d: -f1 | head -n 1)
		started=$(grep -n "agent $a: STOPPED -> STARTING" "$LOG" | cut -d: -f1 | head -n 1)
		[ -n "$gone" ] && [ -n "$started" ] && [ "$gone" -lt "$started" ] ||
		    fail "$mode: $a started (line $started) before its earlier run was gone (line $gone)"
	done
	grep -q "agent quick.0: its run (pid $quick) ended while corrald was down" "$LOG" ||
	    fail "$mode: quick's end not noticed"
	if [ "$kill_watcher" = yes ]; then
		grep -q "agent deaf.0: the run left alive (pid $deaf) still has 1 process after its stop_timeout; sending KILL" "$LOG" ||
		    fail "$mode: deaf not killed after stop_timeout"
	fi
	pids_exited 10 "$watcher" || fail "$mode: the watcher did not exit"
	# Only a cgroup holds a grandchild that left its process group: with
	# one it is found and stopped with its run; without, its run's main
	# process ended and nothing of it is known.
	esc_end=none
	if [ "$mode" = auto ] && grep -q 'each run gets a cgroup' "$LOG"; then
		pids_exited 1 "$esc" || fail "$mode: escaped grandchild $esc left alive"
		esc_end=stopped
	fi
	stop_corrald
	assert_eq "$CRC" 0 "corrald exit status"
	assert_eq "$(q "SELECT count(*) FROM runs")" 0 "runs left recorded after a clean stop"
	# Every earlier run has its end in the events: stopped by the next
	# corrald, or ended unseen while it was down.
	assert_eq "$(q "SELECT group_concat(agent || '.' || instance || ':' || class, ' ')
	    FROM (SELECT * FROM events WHERE kind='exit' AND detail LIKE '%corrald%'
	    ORDER BY agent, instance)")" \
	    "deaf.0:stopped esc.0:$esc_end quick.0:none slow.0:stopped slow.1:stopped" \
	    "$mode: ends of the earlier runs"
	for p in $esc; do kill -KILL "$p" 2>/dev/null; done
	LOG="$T/corrald.log"
}

run_case off yes
run_case auto no
