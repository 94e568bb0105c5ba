# memory_max across a reexec: the OOM kills of a run are counted from the
# run's start, not from the exec.  A process of the run killed by the OOM
# killer before the reexec is still named in the run's exit under the
# new image (as it would be without the reexec), and a kill during the
# exec window is still the run's (classed memory, not killed).
#
# Needs the cgroup v1 memory hierarchy, writable (root).
. "$(dirname "$0")/lib.sh"

grep -q ' - cgroup cgroup [^ ]*\bmemory\b' /proc/self/mountinfo ||
    fail "no cgroup v1 memory hierarchy is mounted here: memory_max cannot be tested (it needs one, writable: root)"

conf <<EOF2
[defaults]
healthy_after = 100ms
stdout = null
stderr = null

[agent:kid]
command = sh -c '$PY -c "b = bytearray(b\"x\" * (200 << 20))"; echo done >$T/kid.done; while [ ! -e $T/go ]; do sleep 0.05; done; exit 3'
memory_max = 64M
restart = never
EOF2
start_corrald
wait_log 'agent kid\.0: STARTING -> RUNNING' 1 10
for _ in $(seq 200); do [ -e "$T/kid.done" ] && break; sleep 0.05; done
[ -e "$T/kid.done" ] || fail "kid's child did not end"
ctl reexec >out 2>&1 || fail "reexec: $(cat out)"
wait_log 're-executed: ' 1 10
touch "$T/go"
wait_log 'agent kid\.0 \(pid [0-9]*\): exited with code 3' 1 10
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
assert_eq "$(q "SELECT class || '|' || detail FROM events WHERE kind='exit' AND agent='kid'")" \
    "error|memory_max: a process of the run killed by the kernel's OOM killer at memory_max 64M (1 OOM kill in its cgroup)" \
    "kid's exit after the reexec"
echo "ok"
