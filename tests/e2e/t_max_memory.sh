# max_memory: a worker whose memory grows past its agent's max_memory is
# stopped gracefully (stop_signal) and restarted; its exit is classed
# memory, a runtime failure, and the log and the exit event name its RSS
# and the limit; a worker below its limit, and one of an agent without
# one, are left alone (same pid, no restart).
. "$(dirname "$0")/lib.sh"

# Grows by 8 MiB every 50 ms up to 160 MiB, touching each page, then waits.
cat >"$T/grow.py" <<'PY'
import time
b = []
for i in range(20):
    b.append(bytearray(b'x' * (8 << 20)))
    time.sleep(0.05)
time.sleep(600)
PY
conf <<EOF2
[agent:grow]
command = $PY $T/grow.py
max_memory = 64M
healthy_after = 100ms
backoff_initial = 100ms
stop_timeout = 5s

[agent:small]
command = $PY -c "import time; b = bytearray(b'x' * (4 << 20)); time.sleep(600)"
max_memory = 200M
healthy_after = 100ms

[agent:free]
command = $PY $T/grow.py
healthy_after = 100ms
EOF2
start_corrald
wait_log 'agent small\.0: STARTING -> RUNNING'
wait_log 'agent free\.0: STARTING -> RUNNING'
small=$(ctl status --json small | json_get 'j["workers"][0]["pid"]')
free=$(ctl status --json free | json_get 'j["workers"][0]["pid"]')

# The sampler finds it above 64M within a period or two of 2 s.
wait_log 'agent grow\.0 \(pid [0-9]+\): rss [0-9.]+M \([0-9]+ bytes\) above max_memory 64M; stopping it' 1 15
wait_log 'agent grow\.0: RUNNING -> STOPPING: max_memory: rss [0-9.]+M \([0-9]+ bytes\) above max_memory 64M'
wait_log 'agent grow\.0 \(pid [0-9]+\): killed by signal 15 \(TERM\) after [0-9.]+s: memory \(runtime failure\)'
wait_log 'agent grow\.0: STOPPING -> BACKOFF: failed; restart in'
wait_log 'agent grow\.0: BACKOFF -> STARTING'
# And again: every run that grows is stopped.
wait_log 'agent grow\.0 \(pid [0-9]+\): rss .* above max_memory 64M; stopping it' 2 15

j=$(ctl status --json)
assert_eq "$(echo "$j" | json_get '[w for w in j["workers"] if w["name"] == "small.0"][0]["pid"]')" "$small" "small.0's pid"
assert_eq "$(echo "$j" | json_get '[w for w in j["workers"] if w["name"] == "small.0"][0]["restarts"]')" 0 "small.0's restarts"
assert_eq "$(echo "$j" | json_get '[w for w in j["workers"] if w["name"] == "free.0"][0]["pid"]')" "$free" "free.0's pid (no max_memory)"
assert_eq "$(echo "$j" | json_get '[w for w in j["workers"] if w["name"] == "free.0"][0]["restarts"]')" 0 "free.0's restarts"
# Well above 64M by now, and nobody stops it.
rss=$(echo "$j" | json_get '[w for w in j["workers"] if w["name"] == "free.0"][0]["rss_bytes"]')
[ "$rss" -gt $((64 << 20)) ] || fail "free.0's rss_bytes $rss: not above 64M"
rss=$(echo "$j" | json_get '[w for w in j["workers"] if w["name"] == "small.0"][0]["rss_bytes"]')
[ "$rss" -gt $((4 << 20)) ] && [ "$rss" -lt $((200 << 20)) ] || fail "small.0's rss_bytes $rss"
# grow.0's last exit, as status says it.
assert_eq "$(echo "$j" | json_get '[w for w in j["workers"] if w["name"] == "grow.0"][0]["last_exit"]["class"]')" memory "grow.0's last exit class"

stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
# The exit events: class memory, a runtime failure, RSS and limit named.
n=$(q "SELECT count(*) FROM events WHERE kind = 'exit' AND agent = 'grow' AND class = 'memory' AND start_failure = 0 AND detail GLOB 'max_memory: rss *M (* bytes) above max_memory 64M'")
[ "$n" -ge 2 ] || fail "exit events of class memory: $n"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind = 'exit' AND agent IN ('small', 'free') AND class <> 'stopped'")" 0 "exits of small and free other than the final stop"
echo "a worker above max_memory was stopped and restarted ($n times), classed memory; one below it and one without it ran on"
