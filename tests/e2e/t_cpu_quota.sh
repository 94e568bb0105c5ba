# cpu_quota: the kernel holds each run of an agent to it through the
# cgroup v1 cpu controller.  A busy-looping worker with cpu_quota = 20%
# uses about a fifth of a CPU, measured by its CPU time over 2 s (under
# 45% asserted), and the kernel says it throttled it; a control worker
# without a quota, busy-looping beside it, uses far more.  The instance's
# cgroup has the period and quota written and holds the run; a clean
# stop removes it.
#
# Needs the cgroup v1 cpu hierarchy, writable (root); it fails, not skips,
# without it.
# e2e: alone (tests/run.sh): it measures CPU time, which a parallel test would take.
. "$(dirname "$0")/lib.sh"

grep -q ' - cgroup cgroup [^ ]*\bcpu\b' /proc/self/mountinfo ||
    fail "no cgroup v1 cpu hierarchy is mounted here: cpu_quota cannot be tested (it needs one, writable: root)"

conf <<EOF2
[agent:held]
command = /bin/sh -c 'while :; do :; done'
cpu_quota = 20%
healthy_after = 100ms

[agent:free]
command = /bin/sh -c 'while :; do :; done'
healthy_after = 100ms
EOF2
start_corrald
wait_log 'corrald .*: 2 agents'
grep -q 'cannot be enforced' "$LOG" &&
    fail "corrald cannot enforce cpu_quota here: $(grep 'cannot be enforced' "$LOG" | head -1)"
wait_log 'cpu_quota: each run gets a cgroup under /'
root=$(sed -n 's/.*cpu_quota: each run gets a cgroup under \(.*\)$/\1/p' "$LOG" | head -1)
wait_log 'agent held\.0: STARTING -> RUNNING'
wait_log 'agent free\.0: STARTING -> RUNNING'
j=$(ctl status --json)
held=$(echo "$j" | json_get '[w for w in j["workers"] if w["name"] == "held.0"][0]["pid"]')
free=$(echo "$j" | json_get '[w for w in j["workers"] if w["name"] == "free.0"][0]["pid"]')
assert_eq "$(echo "$j" | json_get '[w for w in j["workers"] if w["name"] == "held.0"][0]["cpu_quota_percent"]')" 20.0 "held.0's cpu_quota_percent"
assert_eq "$(echo "$j" | json_get '[w for w in j["workers"] if w["name"] == "free.0"][0]["cpu_quota_percent"]')" None "free.0's cpu_quota_percent"

assert_eq "$(cat "$root/held.0/cpu.cfs_period_us")" 100000 "held.0's cpu.cfs_period_us"
assert_eq "$(cat "$root/held.0/cpu.cfs_quota_us")" 20000 "held.0's cpu.cfs_quota_us"
grep -qx "$held" "$root/held.0/cgroup.procs" || fail "held.0 (pid $held) not in $root/held.0"
[ -e "$root/free.0" ] && fail "free.0 has no cpu_quota, yet $root/free.0 exists"

# CPU ticks (utime + stime) of each, and the wall clock, 2 s apart.
ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
hz=$(getconf CLK_TCK)
h0=$(ticks "$held"); f0=$(ticks "$free"); t0=$(date +%s%N)
sleep 2
h1=$(ticks "$held"); f1=$(ticks "$free"); t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
hp=$(( (h1 - h0) * 1000 * 100 / hz / ms ))
fp=$(( (f1 - f0) * 1000 * 100 / hz / ms ))
echo "over ${ms} ms: held.0 (cpu_quota = 20%) used ${hp}% of a CPU, free.0 ${fp}%"
[ "$hp" -lt 45 ] || fail "held.0 used ${hp}% of a CPU with cpu_quota = 20%"
[ "$hp" -gt 5 ] || fail "held.0 used ${hp}% of a CPU: it hardly ran, the measure proves nothing"
[ "$fp" -gt $((2 * hp)) ] || fail "free.0 (no quota) used ${fp}%, not far above held.0's ${hp}%"
# The kernel's own word: it throttled held.0's cgroup.
thr=$(sed -n 's/^nr_throttled //p' "$root/held.0/cpu.stat")
[ "${thr:-0}" -gt 5 ] || fail "held.0's cgroup was throttled ${thr:-0} times: $(cat "$root/held.0/cpu.stat")"

stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
[ -e "$root" ] && fail "a clean stop left $root: $(ls "$root")"
echo "a busy worker with cpu_quota = 20% used ${hp}% of a CPU (throttled $thr times), one without used ${fp}%"
