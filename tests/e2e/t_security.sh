# The rest of the threat model (docs/SECURITY.md) that no other scenario
# checks.  on_state_change runs as corrald's user with corrald's
# environment less every CORRAL_* variable and less the service manager's
# NOTIFY_SOCKET, plus CORRAL_CLUSTER and CORRAL_CHANGE.  A worker gets
# corrald's NOTIFY_SOCKET, not the service manager's, and the
# CORRAL_RESUME_ID corrald chose, never one from corrald's environment.  A
# worker started after a reexec still has only stdin, stdout and stderr
# open (the reexec un-hides descriptors across its exec).  The HTTP
# listener changes nothing: every method but GET is refused (405; with a
# body, 413, as the body limit is 0), and a control verb as a path is
# unknown (404); the workers keep their pids.
. "$(dirname "$0")/lib.sh"

cat >"$T/hook.sh" <<'EOF2'
#!/bin/sh
echo "hook uid $(id -u) env $(env | grep -E '^(CORRAL_|NOTIFY_SOCKET)' | sort | tr '\n' ' ')"
EOF2
chmod +x "$T/hook.sh"
conf <<EOF2
[cluster:c]
failure_threshold = 1
recovery_timeout = 1h
on_state_change = $T/hook.sh

[agent:failing]
command = $TW -d 20 exit 1
cluster = c
backoff_initial = 50ms

[agent:steady]
command = $TW sleep
healthy_after = 100ms

[agent:fds]
command = $TW fds
restart = never
autostart = false
EOF2
sed -i 's/^\[corrald\]$/[corrald]\nhttp_listen = 127.0.0.1:0/' "$T/corral.ini"
: >"$LOG"
CORRAL_RESUME_ID=forged CORRAL_FROM_OUTSIDE=1 NOTIFY_SOCKET="$T/no-manager.sock" \
    "$CORRALD" -c "$T/corral.ini" >>"$LOG" 2>&1 &
CPID=$!
wait_log 'cluster c: on_state_change: hook uid' 1 10
line=$(grep -m 1 'cluster c: on_state_change: hook uid' "$LOG" | sed 's/.*on_state_change: //')
assert_eq "$line" "hook uid $(id -u) env CORRAL_CHANGE=breaker CORRAL_CLUSTER=c " "the hook's user and environment"

wait_log 'agent steady.0: STARTING -> RUNNING'
steady=$(ctl status --json steady | json_get 'j["workers"][0]["pid"]')
env=$(tr '\0' '\n' <"/proc/$steady/environ")
printf '%s\n' "$env" | grep -qx "NOTIFY_SOCKET=$T/notify.sock" || fail "steady.0's NOTIFY_SOCKET: $(printf '%s\n' "$env" | grep NOTIFY_SOCKET)"
printf '%s\n' "$env" | grep -qx "CORRAL_RESUME_ID=" || fail "steady.0's CORRAL_RESUME_ID: $(printf '%s\n' "$env" | grep CORRAL_RESUME_ID)"

# HTTP: read-only.
wait_log 'http: serving /metrics and /status on 127.0.0.1:[0-9]+'
port=$(sed -n 's/.*serving \/metrics and \/status on 127.0.0.1:\([0-9]*\).*/\1/p' "$LOG")
codes=$("$PY" - "$port" <<'PY'
import sys, urllib.request, urllib.error
port = sys.argv[1]
out = []
for method, path in [("POST", "/status"), ("PUT", "/status"), ("DELETE", "/metrics"),
        ("POST", "/stop"), ("GET", "/stop"), ("GET", "/shutdown"), ("GET", "/reload"),
        ("GET", "/restart/steady"), ("GET", "/status")]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        out.append(f"{method} {path} {urllib.request.urlopen(req, timeout=10).status}")
    except urllib.error.HTTPError as e:
        out.append(f"{method} {path} {e.code}")
# A request with a body is refused before its method is looked at.
req = urllib.request.Request(f"http://127.0.0.1:{port}/status", method="POST", data=b"stop all")
try:
    out.append(f"POST+body {urllib.request.urlopen(req, timeout=10).status}")
except urllib.error.HTTPError as e:
    out.append(f"POST+body {e.code}")
print(", ".join(out))
PY
)
assert_eq "$codes" "POST /status 405, PUT /status 405, DELETE /metrics 405, POST /stop 405, GET /stop 404, GET /shutdown 404, GET /reload 404, GET /restart/steady 404, GET /status 200, POST+body 413" "HTTP answers"
assert_eq "$(ctl status --json steady | json_get 'j["workers"][0]["pid"]')" "$steady" "steady.0's pid after the HTTP requests"

# A reexec, then a new worker: nothing of corrald's leaks into it.
out=$(ctl reexec) || fail "reexec: $out"
wait_log 're-executed: [0-9]* workers kept running' 1 10
ctl start fds >/dev/null 2>&1
wait_log 'agent fds.0: STARTING -> EXITED' 1 10
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
assert_eq "$(cut -d' ' -f2 "$T/log/fds.0.stdout.log" | sort | tr '\n' ' ')" "0 1 2 " "descriptors of a worker started after a reexec: $(cat "$T/log/fds.0.stdout.log")"
exit 0
