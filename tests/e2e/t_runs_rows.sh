# What corrald signals at start on the strength of its state database is
# checked first: the file may be damaged, or not what corrald wrote.  Rows
# of the runs table, as an earlier corrald would have left them, name
# processes that are not its runs: a run's pid now taken by another
# process that leads its own group (the group the run had is gone), a
# group that is not the run's own pid, a cgroup outside a fleet's cgroup
# directory; and meta names a cgroup that is no fleet's.  corrald stops
# none of those processes, says why for each, and starts its workers.
# (A cgroup of this corrald's own fleet is still searched and stopped:
# t_survive.)
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root (cgroups, processes of others' groups)"
	exit 0
fi
mnt=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
own=$(sed -n 's/^0:://p' /proc/self/cgroup)
CG="$mnt${own%/}"
VICTIMS=
VDIRS=
victims_cleanup() {
	for p in $VICTIMS; do kill -KILL "$p" 2>/dev/null; done
	for p in $VICTIMS; do "$BUILD/helpers/pidgone" -x 5000 "$p" 2>/dev/null; done
	for d in $VDIRS; do rmdir "$d" 2>/dev/null; done
}
trap 'rc=$?; victims_cleanup; (exit $rc); cleanup' EXIT

# start_ticks PID: its start time, as /proc/PID/stat field 22 has it.
start_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $20 }'; }

conf <<EOF2
[defaults]
command = $TW sleep
healthy_after = 100ms

[agent:reused]
[agent:foreign]
[agent:cgout]
[agent:metaonly]
EOF2
# A database as corrald leaves it, to forge rows in.
start_corrald
wait_log 'agent cgout.0: STARTING -> RUNNING'
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

# The victims: processes of this test, each the leader of its own group.
setsid "$TW" sleep </dev/null >/dev/null 2>&1 &
reused=$!
setsid "$TW" sleep </dev/null >/dev/null 2>&1 &
foreign=$!
VICTIMS="$reused $foreign"
boot=$(cat /proc/sys/kernel/random/boot_id)
w() { "$SQLQ" -w "$DB" "$1" || fail "cannot write: $1"; }
# reused: the run's pid is now another process, started later.
w "INSERT INTO runs VALUES ('reused', 0, $reused, $reused, $(( $(start_ticks $reused) - 100 )), '$boot', NULL, 15, 1000, 0)"
# foreign: a dead pid, and another process's group.
w "INSERT INTO runs VALUES ('foreign', 0, 4194303, $foreign, 0, '$boot', NULL, 15, 1000, 0)"
if [ -n "$mnt" ] && mkdir "$CG/victim-$$" 2>/dev/null; then
	VDIRS="$CG/victim-$$"
	"$TW" sleep </dev/null >/dev/null 2>&1 &
	incg=$!
	VICTIMS="$VICTIMS $incg"
	echo "$incg" >"$CG/victim-$$/cgroup.procs" || fail "cannot move $incg to $CG/victim-$$"
	# cgout: a cgroup that is not its instance's in a fleet's directory.
	w "INSERT INTO runs VALUES ('cgout', 0, 4194302, 4194302, 0, '$boot', '$CG/victim-$$', 15, 1000, 0)"
	# meta: a fleet's cgroup that is no fleet's; its "instance" is populated.
	mkdir "$CG/notafleet-$$" "$CG/notafleet-$$/metaonly.0" || fail "mkdir"
	VDIRS="$CG/notafleet-$$/metaonly.0 $CG/notafleet-$$ $VDIRS"
	"$TW" sleep </dev/null >/dev/null 2>&1 &
	inmeta=$!
	VICTIMS="$VICTIMS $inmeta"
	echo "$inmeta" >"$CG/notafleet-$$/metaonly.0/cgroup.procs" || fail "cannot move $inmeta"
	w "UPDATE meta SET value = '$CG/notafleet-$$' WHERE key = 'cgroup'"
else
	incg=
	inmeta=
	echo "(no cgroup v2 to make here: the cgroup cases are skipped)"
fi

start_corrald
wait_log "agent reused.0: its run \\(pid $reused\\) ended while corrald was down"
wait_log "agent reused.0: STARTING -> RUNNING"
wait_log "agent foreign.0: the state database's runs table names pid 4194303 in group $foreign, which is no run corrald records; ignored"
if [ -n "$incg" ]; then
	wait_log "agent cgout.0: the state database's runs table names cgroup $CG/victim-$$, which is not its instance's in a fleet's cgroup directory; only its process is searched for"
	wait_log "the state database names $CG/notafleet-$$ as the fleet's cgroup, which is no fleet's cgroup directory; not searched"
fi
wait_log 'agent foreign.0: STARTING -> RUNNING'
wait_log 'agent cgout.0: STARTING -> RUNNING'
wait_log 'agent metaonly.0: STARTING -> RUNNING'
for p in $reused $foreign $incg $inmeta; do
	kill -0 "$p" 2>/dev/null || fail "corrald killed pid $p, no run of its own"
done
grep -q 'outlived the corrald before' "$LOG" && fail "corrald took a stranger for a survivor: $(grep 'outlived' "$LOG")"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
for p in $reused $foreign $incg $inmeta; do
	kill -0 "$p" 2>/dev/null || fail "pid $p did not outlive corrald"
done
exit 0
