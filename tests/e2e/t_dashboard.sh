# The dashboard in a real browser (Debian's headless Chromium, driven by
# dashboard_check.py over WebDriver): with http_token, the page asks for
# the token and shows nothing before it; then the fleet.  A crash-looping
# agent started after the page loaded: its crash comes into the event list
# (newest first), its breaker opens, and what the page shows (workers,
# states, breakers, restarts, PIDs, last exits, the cluster's health, the
# header's totals) is what corralctl status --json says.  What a worker
# said (STATUS=) is shown as text, not markup.  No browser: a failure.
# e2e: alone (tests/run.sh): it times something, loads the machine or builds in the tree.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[cluster:pair]
min_healthy = 2

[agent:ok]
command = $TW say 'READY=1\nSTATUS=<img src=x onerror="document.title=1"> & <b>bold</b>'
cluster = pair
healthy_after = 100ms

[agent:crashy]
command = $TW -d 150 signal 11
cluster = pair
autostart = false
backoff_initial = 100ms
backoff_max = 100ms
failure_threshold = 3
EOF2
token=dash-dash-dash-dash-1234
sed -i "s/^\[corrald\]\$/[corrald]\nhttp_listen = 127.0.0.1:0\nhttp_token = $token/" "$T/corral.ini"
start_corrald
wait_log 'http: the dashboard is at http://127.0.0.1:[0-9]+/'
url=$(sed -n 's/.*the dashboard is at \(http:[^ ]*\).*/\1/p' "$LOG" | tail -n 1)
wait_log 'agent ok.0: STARTING -> RUNNING'

# Bounded twice: the driver's own deadline, and timeout's.
timeout -k 5 55 "$PY" "$E2E_DIR/dashboard_check.py" --deadline 50 check \
    "$url" --ctl "$CTL" --socket "$SOCK" --token "$token" --start crashy \
    --crashing crashy.0 >"$T/check.out" 2>&1
rc=$?
cat "$T/check.out"
[ $rc -eq 0 ] || fail "the dashboard check failed (exit $rc)"
grep -q '^page: matches corralctl status --json' "$T/check.out" ||
    fail "the dashboard check did not compare"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
