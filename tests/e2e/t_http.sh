# With http_listen, corrald serves /metrics in Prometheus text format (each
# line parsed: families typed, series unique) with per-agent state,
# restarts, exits by class and uptime and the daemon's workers, events and
# loop lag; /status as JSON; other paths and methods are refused; with
# http_token, no request gets in without it.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[cluster:pair]
failure_threshold = 10
min_healthy = 3

[agent:ok]
command = $TW sleep
numprocs = 2
healthy_after = 100ms
cluster = pair

[agent:crashy]
cluster = pair
command = $TW -d 50 signal 11
backoff_initial = 50ms
backoff_max = 50ms
healthy_after = 1s
max_retries = 2
EOF2
sed -i 's/^\[corrald\]$/[corrald]\nhttp_listen = 127.0.0.1:0/' "$T/corral.ini"
start_corrald
wait_log 'http: serving /metrics and /status on 127.0.0.1:[0-9]+'
port=$(sed -n 's/.*serving \/metrics and \/status on 127.0.0.1:\([0-9]*\).*/\1/p' "$LOG")
wait_log 'agent crashy.0: STARTING -> FATAL'
wait_log 'agent ok.1: STARTING -> RUNNING'

get() { # PATH [HEADER]: prints the status code, then the body
	"$PY" - "$port" "$@" <<'PY'
import sys, urllib.request, urllib.error
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}{sys.argv[2]}")
if len(sys.argv) > 3:
    req.add_header("Authorization", sys.argv[3])
try:
    r = urllib.request.urlopen(req, timeout=10)
    print(r.status, r.headers.get("Content-Type"))
    sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.headers.get("Content-Type"))
PY
}
get /metrics >m.raw
assert_eq "$(head -n 1 m.raw)" "200 text/plain; version=0.0.4; charset=utf-8" "metrics status"
sed 1d m.raw >m.txt
"$PY" "$E2E_DIR/prom_check.py" m.txt >m.series || fail "not Prometheus text: $(cat m.series)"
val() { grep -F "$1 " m.series | cut -d' ' -f2; }
assert_eq "$(val 'corral_up{}')" 1 "corral_up"
assert_eq "$(val 'corral_worker_state{agent="ok",index="1",state="RUNNING"}')" 1 "ok.1 RUNNING"
assert_eq "$(val 'corral_worker_state{agent="crashy",index="0",state="FATAL"}')" 1 "crashy FATAL"
assert_eq "$(val 'corral_worker_exits_total{agent="crashy",class="crash",index="0"}')" 3 "crashy's crashes"
assert_eq "$(val 'corral_worker_restarts_total{agent="crashy",index="0"}')" 2 "crashy's restarts"
assert_eq "$(val 'corral_worker_failures_total{agent="crashy",index="0",kind="start"}')" 3 "start failures"
assert_eq "$(val 'corral_workers{state="RUNNING"}')" 2 "workers RUNNING"
# 3 crashes stay under the default threshold of 5: still CLOSED.
assert_eq "$(val 'corral_breaker_state{agent="crashy",state="CLOSED"}')" 1 "crashy's breaker"
# Its cluster: 2 of 3 workers up, below min_healthy 3; 3 failures, below 10.
assert_eq "$(val 'corral_cluster_health{cluster="pair",health="CRITICAL"}')" 1 "pair's health"
assert_eq "$(val 'corral_cluster_workers_up{cluster="pair"}')" 2 "pair's workers up"
assert_eq "$(val 'corral_cluster_breaker_state{cluster="pair",state="CLOSED"}')" 1 "pair's breaker"
up=$(val 'corral_worker_uptime_seconds{agent="ok",index="0"}')
awk -v u="$up" 'BEGIN { exit !(u > 0) }' || fail "uptime of ok.0 is $up"
lag=$(val 'corral_loop_lag_seconds{}')
awk -v l="$lag" 'BEGIN { exit !(l >= 0 && l < 5) }' || fail "loop lag $lag"
[ "$(val 'corral_events_total{}')" -gt 0 ] || fail "no events counted"

get /status >s.raw
assert_eq "$(head -n 1 s.raw)" "200 application/json" "status"
assert_eq "$(sed 1d s.raw | json_get '[w["state"] for w in j["workers"]]')" "['RUNNING', 'RUNNING', 'FATAL']" "status states"
assert_eq "$(sed 1d s.raw | json_get '[(c["name"], c["health"], c["up"], c["down"]) for c in j["clusters"]]')" "[('pair', 'CRITICAL', 2, 1)]" "status clusters"
assert_eq "$(get /nope | head -n 1 | cut -d' ' -f1)" 404 "unknown path"
code=$("$PY" -c "
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:$port/metrics', data=b'', method='POST'), timeout=10)
except urllib.error.HTTPError as e:
    print(e.code)")
assert_eq "$code" 405 "POST"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

# With a token: refused without it or with a wrong one, served with it.
sed -i 's/^http_listen = .*/http_listen = 127.0.0.1:0\nhttp_token = s3cret-s3cret-s3cret/' "$T/corral.ini"
start_corrald
wait_log 'http: serving .* \(bearer token required\)'
port=$(sed -n 's/.*serving \/metrics and \/status on 127.0.0.1:\([0-9]*\).*/\1/p' "$LOG" | tail -n 1)
assert_eq "$(get /metrics | head -n 1 | cut -d' ' -f1)" 401 "no token"
assert_eq "$(get /metrics 'Bearer wrong-wrong-wrong-wr' | head -n 1 | cut -d' ' -f1)" 401 "wrong token"
assert_eq "$(get /status 'Bearer s3cret-s3cret-s3cret' | head -n 1 | cut -d' ' -f1)" 200 "right token"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
