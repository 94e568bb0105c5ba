# limit_*: a worker's runs get the resource limits of its agent (as
# `ulimit` and /proc/self/limits show them), a limit corrald cannot give
# is warned of at load and fails the start as fatal with the value and
# the reason; and status (table and JSON) and /metrics show each running
# worker's CPU and memory.
. "$(dirname "$0")/lib.sh"

# Above fs.nr_open no process gets descriptors, root included.
over=$(( $(cat /proc/sys/fs/nr_open) + 1 ))
# Burns 0.3 s of CPU, then waits.
cat >"$T/burn.py" <<'PY'
import time
t = time.process_time()
while time.process_time() - t < 0.3:
    pass
b = bytearray(b'x' * (16 << 20))
print("burnt", flush=True)
time.sleep(600)
PY
conf <<EOF2
[agent:lim]
command = sh -c 'echo "nofile \$(ulimit -Sn) \$(ulimit -Hn) core \$(ulimit -c)"; grep -E "^Max (cpu time|file size|stack size|address space|locked memory|processes) " /proc/self/limits; exec sleep 600'
limit_nofile = 256:512
limit_core = 1M
limit_cpu = 2m
limit_fsize = 10M:20M
limit_stack = 4M:infinity
limit_as = 1G
limit_memlock = 64K
limit_nproc = 5000
healthy_after = 100ms

[agent:over]
command = sleep 600
limit_nofile = $over
healthy_after = 100ms

[agent:burn]
command = $PY $T/burn.py
healthy_after = 100ms
EOF2
sed -i 's/^\[corrald\]$/[corrald]\nhttp_listen = 127.0.0.1:0/' "$T/corral.ini"

# --check warns of the limit it cannot give, naming the line, and passes.
"$CORRALD" --check "$T/corral.ini" >check.out 2>check.err || fail "--check: $(cat check.err)"
line=$(grep -n "^limit_nofile = $over\$" "$T/corral.ini" | cut -d: -f1)
grep -q "corral.ini:$line: \[agent:over\] limit_nofile = $over cannot be set (.*): its runs will fail to start (fatal)" check.err ||
    fail "--check's warning: $(cat check.err)"
grep -q '^limit_nofile = 256:512$' check.out || fail "--check prints limit_nofile: $(grep limit_ check.out)"
grep -q '^limit_cpu = 120$' check.out || fail "--check prints limit_cpu: $(grep limit_ check.out)"

start_corrald
wait_log 'agent lim\.0: STARTING -> RUNNING'
wait_log "agent over\\.0 \\(pid [0-9]+\\): cannot start: limit_nofile = $over: setrlimit: Operation not permitted \\(.*\\)"
wait_log 'agent over\.0: STARTING -> FATAL'
"$WAITLOG" "$T/log/lim.0.stdout.log" 'Max processes' 1 10000 || fail "lim.0 said nothing"
out=$(cat "$T/log/lim.0.stdout.log")
echo "$out" | grep -q '^nofile 256 512 core 2048$' || fail "ulimit in lim.0: $out"
lim() { echo "$out" | sed -n "s/^Max $1  *//p" | awk '{ print $1, $2 }'; }
assert_eq "$(lim 'cpu time')" "120 120" "cpu time"
assert_eq "$(lim 'file size')" "10485760 20971520" "file size"
assert_eq "$(lim 'stack size')" "4194304 unlimited" "stack size"
assert_eq "$(lim 'address space')" "1073741824 1073741824" "address space"
assert_eq "$(lim 'locked memory')" "65536 65536" "locked memory"
assert_eq "$(lim 'processes')" "5000 5000" "processes"
j=$(ctl status --json over)
assert_eq "$(echo "$j" | json_get 'j["workers"][0]["last_exit"]["class"]')" fatal "over.0's exit class"

# CPU and memory of a running worker.
"$WAITLOG" "$T/log/burn.0.stdout.log" '^burnt$' 1 10000 || fail "burn.0 did not burn"
# Samples are at most a second old: wait for one taken since.
i=0
while :; do
	j=$(ctl status --json burn)
	rss=$(echo "$j" | json_get 'j["workers"][0]["rss_bytes"]')
	[ "$rss" -gt $((16 << 20)) ] && break
	i=$((i + 1))
	[ $i -lt 100 ] || fail "burn.0's rss_bytes stays $rss"
	sleep 0.1
done
cpu=$(echo "$j" | json_get 'j["workers"][0]["cpu_ms"]')
pct=$(echo "$j" | json_get 'j["workers"][0]["cpu_percent"]')
[ "$rss" -gt $((16 << 20)) ] || fail "burn.0's rss_bytes: $rss"
[ "$cpu" -ge 250 ] || fail "burn.0's cpu_ms: $cpu"
awk -v p="$pct" 'BEGIN { exit !(p >= 0 && p <= 400) }' || fail "burn.0's cpu_percent: $pct"
# Without a process: null, all three.
assert_eq "$(ctl status --json over | json_get '[j["workers"][0][k] for k in ("rss_bytes", "cpu_ms", "cpu_percent")]')" "[None, None, None]" "over.0's usage"
table=$(ctl status)
echo "$table" | head -n 1 | grep -q 'UPTIME  *CPU  *MEM  *RESTARTS' || fail "status header: $(echo "$table" | head -n 1)"
echo "$table" | grep -Eq '^burn\.0  +RUNNING  +[0-9]+  +[0-9.]+s  +[0-9.]+%  +[0-9.]+M  ' || fail "burn.0's row: $table"
echo "$table" | grep -Eq '^over\.0  +FATAL  +-  +-  +-  +-  ' || fail "over.0's row: $table"

port=$(sed -n 's/.*serving \/metrics and \/status on 127.0.0.1:\([0-9]*\).*/\1/p' "$LOG")
"$PY" -c "
import sys, urllib.request
sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$port/metrics', timeout=10).read().decode())" >m.txt ||
    fail "GET /metrics"
"$PY" "$E2E_DIR/prom_check.py" m.txt >m.series || fail "not Prometheus text: $(cat m.series)"
val() { grep -F "$1 " m.series | cut -d' ' -f2; }
rss=$(val 'corral_worker_memory_rss_bytes{agent="burn",index="0"}')
[ "${rss:-0}" -gt $((16 << 20)) ] || fail "corral_worker_memory_rss_bytes of burn.0: '$rss'"
cpu=$(val 'corral_worker_cpu_seconds_total{agent="burn",index="0"}')
awk -v c="$cpu" 'BEGIN { exit !(c >= 0.25) }' || fail "corral_worker_cpu_seconds_total of burn.0: '$cpu'"
# A worker without a process has no series.
[ -z "$(val 'corral_worker_memory_rss_bytes{agent="over",index="0"}')" ] || fail "over.0 has an rss series"
grep -q '^# TYPE corral_worker_cpu_seconds_total counter$' m.txt || fail "cpu counter's TYPE"

stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
assert_eq "$(q "SELECT class FROM events WHERE kind = 'exit' AND agent = 'over'")" fatal "over's exit event"
q "SELECT detail FROM events WHERE kind = 'exit' AND agent = 'over'" | grep -q "^limit_nofile = $over: setrlimit: " ||
    fail "over's exit detail: $(q "SELECT detail FROM events WHERE kind = 'exit' AND agent = 'over'")"
echo "limits reached the worker, one it cannot have failed the start as fatal, status and /metrics showed CPU and memory"
