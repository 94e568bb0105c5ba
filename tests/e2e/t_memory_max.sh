# memory_max: the kernel holds each run of an agent to it through the
# cgroup v1 memory controller.  A worker that allocates past it is killed
# by the OOM killer, its exit classed memory (not killed) with a detail
# naming memory_max, and restarted; one below it runs on untouched; its
# instance's cgroup has the limit written and holds the run; a run kept
# across a reexec is still held and classed so.  A clean
# stop removes the directories; after corrald is killed (-9) they are
# left, and the next corrald removes them.  Where the memory hierarchy is
# not mounted, the agent's workers are held FATAL with the reason, never
# run unlimited, while other agents run.
#
# Needs the cgroup v1 memory hierarchy, writable (root); it fails, not
# skips, without it.
. "$(dirname "$0")/lib.sh"

grep -q ' - cgroup cgroup [^ ]*\bmemory\b' /proc/self/mountinfo ||
    fail "no cgroup v1 memory hierarchy is mounted here: memory_max cannot be tested (it needs one, writable: root)"

# 8 MiB more every 20 ms, each page touched, up to 240 MiB.
cat >"$T/grow.py" <<'PY'
import time
b = []
for i in range(30):
    b.append(bytearray(b'x' * (8 << 20)))
    time.sleep(0.02)
time.sleep(600)
PY
conf <<EOF2
[agent:grow]
command = $PY $T/grow.py
memory_max = 64M
healthy_after = 100ms
backoff_initial = 100ms

[agent:small]
command = $PY -c "import time; b = bytearray(b'x' * (4 << 20)); time.sleep(600)"
memory_max = 200M
healthy_after = 100ms
EOF2
start_corrald
wait_log 'corrald .*: 2 agents'
grep -q 'cannot be enforced' "$LOG" &&
    fail "corrald cannot enforce memory_max here: $(grep 'cannot be enforced' "$LOG" | head -1)"
wait_log 'memory_max: each run gets a cgroup under /'
root=$(sed -n 's/.*memory_max: each run gets a cgroup under \(.*\)$/\1/p' "$LOG" | head -1)
wait_log 'agent small\.0: STARTING -> RUNNING'
small=$(ctl status --json small | json_get 'j["workers"][0]["pid"]')

# Killed by the kernel within a fraction of a second, again each run.
wait_log 'agent grow\.0 \(pid [0-9]+\): memory_max: killed by the kernel.s OOM killer at memory_max 64M \(1 OOM kill in its cgroup\)' 2 15
wait_log 'agent grow\.0 \(pid [0-9]+\): killed by signal 9 \(KILL\) after [0-9.]+s: memory \(runtime failure\)' 2
wait_log 'agent grow\.0: BACKOFF -> STARTING' 2

# small.0's cgroup: the limit written, its run in it.
assert_eq "$(cat "$root/small.0/memory.limit_in_bytes")" $((200 << 20)) "small.0's memory.limit_in_bytes"
grep -qx "$small" "$root/small.0/cgroup.procs" || fail "small.0 (pid $small) not in $root/small.0"
grep -q "^[0-9]*:memory:.*/small\.0\$" "/proc/$small/cgroup" || fail "/proc/$small/cgroup: $(cat "/proc/$small/cgroup")"
j=$(ctl status --json)
assert_eq "$(echo "$j" | json_get '[w for w in j["workers"] if w["name"] == "small.0"][0]["pid"]')" "$small" "small.0's pid"
assert_eq "$(echo "$j" | json_get '[w for w in j["workers"] if w["name"] == "small.0"][0]["restarts"]')" 0 "small.0's restarts"
assert_eq "$(echo "$j" | json_get '[w for w in j["workers"] if w["name"] == "grow.0"][0]["memory_max"]')" $((64 << 20)) "grow.0's memory_max in status"
assert_eq "$(echo "$j" | json_get '[w for w in j["workers"] if w["name"] == "grow.0"][0]["last_exit"]["class"]')" memory "grow.0's last exit class"

# A run kept across a reexec: still held, and classed memory when the
# kernel kills it under the new image.
cat >"$T/late.py" <<PY
import os, time
while not os.path.exists('$T/go'):
    time.sleep(0.02)
b = bytearray(b'x' * (100 << 20))
time.sleep(600)
PY
conf <<EOF2
[agent:grow]
command = $PY $T/grow.py
memory_max = 64M
healthy_after = 100ms
backoff_initial = 100ms

[agent:small]
command = $PY -c "import time; b = bytearray(b'x' * (4 << 20)); time.sleep(600)"
memory_max = 200M
healthy_after = 100ms

[agent:late]
command = $PY $T/late.py
memory_max = 64M
healthy_after = 100ms
backoff_initial = 10s
EOF2
ctl reload >/dev/null || fail "reload failed"
wait_log 'agent late\.0: STARTING -> RUNNING'
late=$(ctl status --json late | json_get 'j["workers"][0]["pid"]')
out=$(ctl reexec) || fail "reexec failed: $out"
wait_log 're-executed: [23] workers kept running'
grep -qx "$small" "$root/small.0/cgroup.procs" || fail "small.0 (pid $small) left $root/small.0 at the reexec"
touch "$T/go"
wait_log "agent late\\.0 \\(pid $late\\): memory_max: killed by the kernel.s OOM killer at memory_max 64M \\(1 OOM kill in its cgroup\\)"
wait_log "agent late\\.0 \\(pid $late\\): killed by signal 9 \\(KILL\\) after [0-9.]+s: memory \\(runtime failure\\)"

stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
[ -e "$root" ] && fail "a clean stop left $root: $(ls "$root")"
n=$(q "SELECT count(*) FROM events WHERE kind = 'exit' AND agent = 'grow' AND class = 'memory' AND signal = 9 AND start_failure = 0 AND detail GLOB 'memory_max: killed by the kernel''s OOM killer at memory_max 64M (1 OOM kill in its cgroup)'")
[ "$n" -ge 2 ] || fail "exit events of class memory: $n"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind = 'exit' AND class = 'killed'")" 0 "exits classed killed"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind = 'exit' AND agent = 'small' AND class <> 'stopped'")" 0 "small's exits other than the final stop"

# Killed -9: its directories stay; the next corrald (no agent with
# memory_max now) removes them once the runs left are gone.
start_corrald
wait_log 'agent small\.0: STARTING -> RUNNING'
small=$(ctl status --json small | json_get 'j["workers"][0]["pid"]')
[ -d "$root/small.0" ] || fail "no $root/small.0 while small.0 runs"
stop_corrald KILL
pids_gone 15 "$small" || fail "small.0 (pid $small) outlived corrald -9"
[ -d "$root/small.0" ] || fail "corrald -9 left no $root/small.0: nothing to clean, the test proves nothing"
conf <<EOF2
[agent:small]
command = $PY -c "import time; time.sleep(600)"
EOF2
start_corrald
wait_log 'corrald .*: 1 agents'
[ -e "$root" ] && fail "the next corrald left $root: $(ls "$root")"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

# No memory hierarchy (a mount namespace without it): grow is held FATAL
# with the reason, small runs.
conf <<EOF2
[agent:grow]
command = $PY $T/grow.py
memory_max = 64M

[agent:small]
command = $PY -c "import time; time.sleep(600)"
healthy_after = 100ms
EOF2
: >"$LOG"
unshare -m --propagation private sh -c \
    'umount /sys/fs/cgroup/memory && exec "$0" -c "$1"' \
    "$CORRALD" "$T/corral.ini" >>"$LOG" 2>&1 &
CPID=$!
wait_log 'agent grow: memory_max = 64M cannot be enforced: no cgroup v1 memory hierarchy holds corrald .*; its workers are held \(FATAL\) rather than run unlimited'
wait_log 'agent grow\.0: STOPPED -> FATAL: memory_max = 64M cannot be enforced: .*; held until corralctl start or reset'
wait_log 'agent small\.0: STARTING -> RUNNING'
j=$(ctl status --json grow)
assert_eq "$(echo "$j" | json_get 'j["workers"][0]["state"]')" FATAL "grow.0's state"
assert_eq "$(echo "$j" | json_get 'j["workers"][0]["pid"]')" None "grow.0's pid"
assert_eq "$(grep -c 'agent grow\.0: [A-Z]* -> STARTING' "$LOG")" 0 "starts of grow.0 without its limit"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
echo "a worker past memory_max was OOM-killed by the kernel, classed memory and restarted ($n times); one below ran on; directories removed by a clean stop and, after -9, by the next corrald; without the hierarchy the agent was held"
