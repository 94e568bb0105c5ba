# user = NAME (corrald running as root) runs the worker as that user, with
# that user's group; its log files are still written by corrald.
#
# What such a worker can and cannot do (docs/SECURITY.md): its groups are
# exactly the user's (root's supplementary groups dropped), it has no
# capabilities; it cannot reach the control socket, signal corrald, its
# watcher or a worker of another user, leave its run's cgroup, or read the state
# database or another worker's log; it can signal a worker of its own
# user (one user, one trust domain).  Its log files and corrald's watcher
# stay root's.  A fork bomb in it (held to 200
# processes by RLIMIT_NPROC, the operator's limit) neither stalls corrald
# nor survives a stop: every process of the run is gone.  A checkpoint
# database the operator prepared for the user's group (0660) takes its
# checkpoints.
# e2e: alone (tests/run.sh): it times something, loads the machine or builds in the tree.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root"
	exit 0
fi
uid=$(id -u nobody) || fail "no user nobody"
gid=$(id -g nobody)
# Let nobody reach what it is named (the probe, the pid files, the
# sockets) and nothing else.
chmod 0711 "$T"
cat >"$T/probe.sh" <<EOF2
#!/bin/sh
# Wait (at most 10 s) for the pids the test hands over.
i=0
while [ ! -s "$T/pids" ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
read root peer watcher <"$T/pids"
try() { if "\$@" >/dev/null 2>&1; then echo yes; else echo no; fi; }
echo "groups \$(id -G)"
echo "caps \$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)"
echo "signal corrald: \$(try kill -0 \$PPID)"
echo "signal the watcher: \$(try kill -0 \$watcher)"
echo "signal root's worker: \$(try kill -0 \$root)"
echo "signal nobody's worker: \$(try kill -0 \$peer)"
echo "control: \$("$BUILD/corralctl" -s "$SOCK" status 2>&1 >/dev/null)"
echo "read state: \$(try head -c 1 "$DB")"
echo "read a log: \$(try head -c 1 "$T/log/mine.0.stdout.log")"
cg=\$(sed -n 's/^0:://p' /proc/self/cgroup)
mnt=\$(awk '\$9 == "cgroup2" { print \$5; exit }' /proc/self/mountinfo)
if [ -n "\$mnt" ] && [ -n "\$cg" ] && [ "\$cg" != / ]; then
	echo "leave cgroup: \$(try sh -c "echo \$\$ >'\$mnt\${cg%/*}/cgroup.procs'")"
else
	echo "leave cgroup: no cgroup"
fi
echo done
exec sleep 1000
EOF2
chmod 0755 "$T/probe.sh"
conf <<EOF2
[defaults]
healthy_after = 100ms

[agent:unpriv]
command = $T/probe.sh
user = nobody

[agent:peer]
command = $TW sleep
user = nobody

[agent:mine]
command = $TW count
EOF2
start_corrald
wait_log 'agent unpriv.0: STARTING -> RUNNING'
wait_log 'agent peer.0: STARTING -> RUNNING'
wait_log 'agent mine.0: STARTING -> RUNNING'
pidof() { ctl status --json "$1" | json_get 'j["workers"][0]["pid"]'; }
pid=$(pidof unpriv)
watcher=$(sed -n 's/.*watcher started (pid \([0-9]*\)).*/\1/p' "$LOG" | tail -n 1)
echo "$(pidof mine) $(pidof peer) $watcher" >"$T/pids.tmp"
chmod 0644 "$T/pids.tmp"
mv "$T/pids.tmp" "$T/pids"
assert_eq "$(sed -n 's/^Uid:\s*\([0-9]*\).*/\1/p' /proc/$pid/status)" "$uid" "worker uid"
assert_eq "$(sed -n 's/^Gid:\s*\([0-9]*\).*/\1/p' /proc/$pid/status)" "$gid" "worker gid"
assert_eq "$(sed -n 's/^Groups:\s*//p' /proc/$pid/status | xargs)" "$(id -G nobody)" "worker groups"
"$WAITLOG" "$T/log/unpriv.0.stdout.log" '^done$' 1 15000 || fail "the probe did not finish: $(cat "$T"/log/unpriv.0.*)"
probe() { sed -n "s/^$1: //p" "$T/log/unpriv.0.stdout.log"; }
assert_eq "$(sed -n 's/^groups //p' "$T/log/unpriv.0.stdout.log")" "$(id -G nobody)" "groups as the worker sees them"
assert_eq "$(sed -n 's/^caps //p' "$T/log/unpriv.0.stdout.log")" 0000000000000000 "effective capabilities"
assert_eq "$(probe 'signal corrald')" no "the worker signals corrald"
assert_eq "$(probe 'signal the watcher')" no "the worker signals corrald's watcher"
assert_eq "$(probe "signal root's worker")" no "the worker signals a worker of another user"
assert_eq "$(probe "signal nobody's worker")" yes "the worker signals a worker of its own user"
assert_eq "$(probe control)" "corralctl: cannot reach corrald at $SOCK: Permission denied" "the worker uses the control socket"
assert_eq "$(probe 'read state')" no "the worker reads the state database"
assert_eq "$(probe 'read a log')" no "the worker reads another worker's log"
case $(probe 'leave cgroup') in
no | "no cgroup") ;;
*) fail "the worker left its cgroup: $(probe 'leave cgroup')" ;;
esac
# What stays corrald's: its log files, its watcher.
assert_eq "$(stat -c %U:%a "$T/log/unpriv.0.stdout.log")" "root:640" "owner and mode of the worker's log"
assert_eq "$(sed -n 's/^Uid:\s*\([0-9]*\).*/\1/p' "/proc/$watcher/status")" 0 "the watcher's uid"
STRAYS=$pid
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
pids_gone 5 "$pid" || fail "worker left"

# Checkpoints as another user: the checkpoint database is one file for
# the fleet, which corrald (root) makes readable by no one else; an
# operator who prepares it for the agent's group (0660) lets the agent
# checkpoint, WAL and shared memory taking the file's owner and mode.
ck="$T/ck.db"
install -m 0660 -o root -g "$gid" /dev/null "$ck"
conf <<EOF2
[agent:cnt]
command = $BUILD/examples/counter --to 5 --step-ms 20
user = nobody
restart = never
healthy_after = 100ms
EOF2
sed -i "s|^\\[corrald\\]\$|[corrald]\\ncheckpoint_db = $ck|" "$T/corral.ini"
start_corrald
wait_log 'agent cnt.0: [A-Z]+ -> EXITED: exited cleanly' 1 10
assert_eq "$(stat -c %G:%a "$ck")" "$(id -gn nobody):660" "group and mode of the prepared checkpoint database"
assert_eq "$(stat -c %G:%a "$ck-wal")" "$(id -gn nobody):660" "group and mode of the checkpoint WAL"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
assert_eq "$("$SQLQ" "$ck" "SELECT count(*) FROM checkpoints WHERE thread_id = 'cnt/0'")" 5 "checkpoints written by cnt.0 as nobody"

# A fork bomb, held by the operator's RLIMIT_NPROC (root, corrald, is
# exempt; the worker's user is not).  corrald answers throughout, and a
# stop leaves nothing of it.
conf <<EOF2
[agent:bomb]
command = sh -c 'while :; do sleep 1000 & done'
user = nobody
healthy_after = 100ms
stop_timeout = 2s
EOF2
: >"$LOG"
prlimit --nproc=200 -- "$CORRALD" -c "$T/corral.ini" >>"$LOG" 2>&1 &
CPID=$!
wait_log 'agent bomb.0: STARTING -> RUNNING'
# Its pid as status says it; a loaded machine may answer late.
i=0
until bomb=$(pidof bomb) && [ "$bomb" -gt 0 ] 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "status never gave the bomb's pid: '$bomb'"
	sleep 0.1
done
# dash ends when a fork fails: the run dies at the limit, its leftovers
# go with it, and the next run (a new pid) forks again.  So the current
# run is asked for each time, not the first one seen.
i=0
while [ "$(ps -o pid= -g "$bomb" | wc -l)" -lt 150 ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "the bomb made only $(ps -o pid= -g "$bomb" | wc -l) processes"
	sleep 0.1
	b=$(pidof bomb) && [ "$b" -gt 0 ] 2>/dev/null && bomb=$b
done
ctl status >/dev/null || fail "corrald does not answer during the bomb"
ctl stop bomb >/dev/null || fail "cannot stop the bomb"
wait_log 'agent bomb.0: [A-Z]+ -> STOPPED' 1 10
i=0
while [ -n "$(ps -o pid= -g "$bomb")" ]; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "the bomb's processes outlived its stop: $(ps -o pid= -g "$bomb" | wc -l)"
	sleep 0.1
done
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
