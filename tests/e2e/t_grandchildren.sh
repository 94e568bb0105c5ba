# Descendants are reaped: when a worker exits, what it left in its process
# group is killed and reaped at once.  A grandchild that escaped the group
# (setsid) is, with a cgroup per run, in its run's cgroup and killed when
# the run ends; without one (cgroup = off) it is adopted by corrald, the
# subreaper, and killed at shutdown.
. "$(dirname "$0")/lib.sh"

# run_case MODE
run_case() {
	rm -f "$DB" "$DB"-wal "$DB"-shm "$T"/*.pid
	conf <<EOF2
[agent:parent]
command = $TW -d 200 grandchild $T/gc.%(instance).pid
backoff_initial = 5s
backoff_max = 5s
healthy_after = 10s

[agent:escaper]
command = $TW escape $T/esc.pid
healthy_after = 100ms
EOF2
	sed -i "s/^\[corrald\]\$/[corrald]\ncgroup = $1/" "$T/corral.ini"
	start_corrald
	wait_log 'agent parent.0: STARTING -> BACKOFF'
	wait_log 'agent escaper.0: STARTING -> RUNNING'
	gc=$(cat "$T/gc.0.pid")
	esc=$(cat "$T/esc.pid")
	STRAYS="$gc $esc"
	# The grandchild ignores SIGTERM; the group kill must get it anyway.
	pids_gone 5 "$gc" || fail "$1: grandchild $gc of an exited worker is still there"
	[ -e "/proc/$esc" ] || fail "$1: escaped grandchild $esc died early"
	ppid=$(sed -n 's/^PPid:\s*//p' "/proc/$esc/status")
	if grep -q 'each run gets a cgroup' "$LOG"; then
		# Its run ends: its cgroup goes with it, the escaped one too.
		ctl stop escaper >/dev/null || fail "$1: stop escaper"
		pids_exited 5 "$esc" || fail "$1: escaped grandchild $esc outlived its run"
		stop_corrald
		assert_eq "$CRC" 0 "corrald exit status"
	else
		stop_corrald
		assert_eq "$CRC" 0 "corrald exit status"
		pids_gone 5 "$esc" || fail "$1: escaped grandchild $esc survived corrald"
		grep -q "killed 1 stray processes left by workers" "$LOG" ||
		    fail "$1: no stray kill logged (escaper's parent was $ppid)"
	fi
}

run_case off
run_case auto
