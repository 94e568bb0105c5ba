# The rest of the threat model (docs/SECURITY.md) that no other scenario
# checks.  on_state_change runs as corrald's user, in a session of its
# own, stdin on /dev/null, with corrald's environment less every CORRAL_*
# variable and less the service manager's NOTIFY_SOCKET, plus
# CORRAL_CLUSTER and CORRAL_CHANGE.  A worker gets
# corrald's NOTIFY_SOCKET, not the service manager's, and the
# CORRAL_RESUME_ID corrald chose, never one from corrald's environment.  A
# worker started after a reexec still has only stdin, stdout and stderr
# open (the reexec un-hides descriptors across its exec).  Descriptors a
# stranger passes in a datagram are closed, and their drops logged at
# most every 10 s.  A watcher killed is replaced
# by one that knows every run, and ends them when corrald dies.  The HTTP
# listener changes nothing: every method but GET is refused (405; with a
# body, 413, as the body limit is 0), and a control verb as a path is
# unknown (404); the workers keep their pids.  Its token is in no log
# line, no file corrald writes and no worker's environment, and
# corrald's environment is not in the state database.
. "$(dirname "$0")/lib.sh"

cat >"$T/hook.sh" <<'EOF2'
#!/bin/sh
sid=$(sed 's/.*) //' /proc/$$/stat | cut -d' ' -f4)
echo "hook uid $(id -u) stdin $(readlink /proc/$$/fd/0) session $([ "$sid" = $$ ] && echo own || echo "$sid") env $(env | grep -E '^(CORRAL_|NOTIFY_SOCKET)' | sort | tr '\n' ' ')"
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
stop_timeout = 1s

[agent:steady]
command = $TW sleep
healthy_after = 100ms
stop_timeout = 1s

[agent:fds]
command = $TW fds
restart = never
autostart = false

[agent:deaf]
command = $TW ignore-term
healthy_after = 100ms
stop_timeout = 1s
autostart = false

[agent:child]
command = sh -c '$TW say READY=1 & exec $TW sleep'
healthy_after = 30s
stop_timeout = 1s

[agent:escaped]
command = sh -c 'setsid -w $TW send READY=1; exec $TW sleep'
healthy_after = 30s
stop_timeout = 1s

[agent:big]
command = sh -c 'exec $TW say "\$(printf %%05000d 0)"'
healthy_after = 100ms
stop_timeout = 1s

[agent:talker]
command = $TW say 'READY=1\nSTATUS=she said "hi" \\ then left'
stop_timeout = 1s
EOF2
TOKEN=tok-3f9a1c-secret-7d2e
sed -i "s/^\\[corrald\\]\$/[corrald]\\nhttp_listen = 127.0.0.1:0\\nhttp_token = $TOKEN/" "$T/corral.ini"
: >"$LOG"
CORRAL_RESUME_ID=forged CORRAL_FROM_OUTSIDE=1 NOTIFY_SOCKET="$T/no-manager.sock" \
    MARKER=env-marker-5b1f0c \
    "$CORRALD" -c "$T/corral.ini" >>"$LOG" 2>&1 &
CPID=$!
wait_log 'cluster c: on_state_change: hook uid' 1 10
line=$(grep -m 1 'cluster c: on_state_change: hook uid' "$LOG" | sed 's/.*on_state_change: //')
assert_eq "$line" "hook uid $(id -u) stdin /dev/null session own env CORRAL_CHANGE=breaker CORRAL_CLUSTER=c " "the hook's user, stdin, session and environment"

wait_log 'agent steady.0: STARTING -> RUNNING'
steady=$(ctl status --json steady | json_get 'j["workers"][0]["pid"]')
env=$(tr '\0' '\n' <"/proc/$steady/environ")
printf '%s\n' "$env" | grep -qx "NOTIFY_SOCKET=$T/notify.sock" || fail "steady.0's NOTIFY_SOCKET: $(printf '%s\n' "$env" | grep NOTIFY_SOCKET)"
printf '%s\n' "$env" | grep -qx "CORRAL_RESUME_ID=" || fail "steady.0's CORRAL_RESUME_ID: $(printf '%s\n' "$env" | grep CORRAL_RESUME_ID)"

# corrald's own environment is passed on, but for those two.
printf '%s\n' "$env" | grep -qx "CORRAL_FROM_OUTSIDE=1" || fail "steady.0 lacks corrald's CORRAL_FROM_OUTSIDE"

# The notify socket hears a worker's own children (its process group),
# not a process that left the group; what a worker says reaches /status
# escaped.  (A child is judged when its datagram is read: one that has
# exited by then is no longer in the group, so child.0's stays alive.)
wait_log 'agent child.0: STARTING -> RUNNING: READY=1' 1 10
wait_log 'agent talker.0: STARTING -> RUNNING: READY=1' 1 10
esc=$(ctl status --json escaped | json_get 'j["workers"][0]["pid"]')
i=0
until tr '\0' ' ' <"/proc/$esc/cmdline" | grep -q "tworker sleep"; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "escaped.0 never got past its send"
	sleep 0.1
done
assert_eq "$(ctl status --json escaped | json_get '(j["workers"][0]["state"], j["workers"][0]["ready"])')" \
    "('STARTING', False)" "escaped.0, whose READY=1 came from outside its group"
wait_log 'dropped a datagram \(unknown_sender\)' 1 5
# Root may claim any pid (the kernel's rule, and systemd's trust): a
# worker running as root can speak for any other.
out=$(NOTIFY_SOCKET="$T/notify.sock" "$TW" forge "$esc")
if [ "$(id -u)" -eq 0 ]; then
	assert_eq "$out" sent "root forging escaped.0's pid"
	wait_log 'agent escaped.0: STARTING -> RUNNING: READY=1' 1 5
fi
# A worker's datagram over 4096 bytes is dropped, whole.
wait_log 'dropped a datagram \(oversized\): 5000 bytes from agent big.0' 1 5

# HTTP: read-only.
wait_log 'http: serving /metrics and /status on 127.0.0.1:[0-9]+'
port=$(sed -n 's/.*serving \/metrics and \/status on 127.0.0.1:\([0-9]*\).*/\1/p' "$LOG")
codes=$(TOKEN="$TOKEN" "$PY" - "$port" <<'PY'
import os, sys, urllib.request, urllib.error
port = sys.argv[1]
out = []
for method, path in [("POST", "/status"), ("PUT", "/status"), ("DELETE", "/metrics"),
        ("POST", "/stop"), ("GET", "/stop"), ("GET", "/shutdown"), ("GET", "/reload"),
        ("GET", "/restart/steady"), ("GET", "/status")]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
        headers={"Authorization": "Bearer " + os.environ["TOKEN"]})
    try:
        out.append(f"{method} {path} {urllib.request.urlopen(req, timeout=10).status}")
    except urllib.error.HTTPError as e:
        out.append(f"{method} {path} {e.code}")
# A request with a body is refused before its method is looked at.
req = urllib.request.Request(f"http://127.0.0.1:{port}/status", method="POST", data=b"stop all",
    headers={"Authorization": "Bearer " + os.environ["TOKEN"]})
try:
    out.append(f"POST+body {urllib.request.urlopen(req, timeout=10).status}")
except urllib.error.HTTPError as e:
    out.append(f"POST+body {e.code}")
print(", ".join(out))
PY
)
assert_eq "$codes" "POST /status 405, PUT /status 405, DELETE /metrics 405, POST /stop 404, GET /stop 404, GET /shutdown 404, GET /reload 404, GET /restart/steady 404, GET /status 200, POST+body 413" "HTTP answers"
assert_eq "$(ctl status --json steady | json_get 'j["workers"][0]["pid"]')" "$steady" "steady.0's pid after the HTTP requests"
TOKEN="$TOKEN" "$PY" - "$port" <<'PY' || fail "/status does not carry talker.0's status text intact"
import json, os, sys, urllib.request
j = json.load(urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/status",
    headers={"Authorization": "Bearer " + os.environ["TOKEN"]}), timeout=10))
t = [w["status_text"] for w in j["workers"] if w["name"] == "talker.0"][0]
sys.exit(0 if t == 'she said "hi" \\ then left' else print(repr(t)) or 1)
PY

# Descriptors passed along with a datagram (SCM_RIGHTS) are closed, not
# kept: a stranger cannot fill corrald's descriptor table.  Its 20
# datagrams are counted read (/metrics) before the table is looked at.
unknown() {
	TOKEN="$TOKEN" "$PY" - "$port" <<'PY'
import os, sys, urllib.request
m = urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/metrics",
    headers={"Authorization": "Bearer " + os.environ["TOKEN"]}), timeout=10).read().decode()
print([l.split()[1] for l in m.splitlines() if l.startswith('corral_notify_datagrams_total{outcome="unknown_sender"}')][0])
PY
}
before=$(unknown)
: >"$T/passed"
"$PY" - "$T/notify.sock" "$T/passed" <<'PY' || fail "cannot pass descriptors"
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(sys.argv[1])
fd = os.open(sys.argv[2], os.O_RDONLY)
for _ in range(20):
    socket.send_fds(s, [b"READY=1"], [fd])
PY
i=0
while [ "$(unknown)" -lt $((before + 20)) ]; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "corrald read $(( $(unknown) - before )) of the 20 datagrams"
	sleep 0.1
done
kept=$(for f in /proc/$CPID/fd/*; do readlink "$f"; done | grep -c "^$T/passed\$")
# 21 strangers' datagrams within seconds: logged at most every 10 s.
n=$(grep -c 'dropped a datagram (unknown_sender)' "$LOG")
[ "$n" -le 2 ] || fail "$n log lines for 21 datagrams of strangers"
assert_eq "$kept" 0 "descriptors of $T/passed that corrald kept"

# A reexec, then a new worker: nothing of corrald's leaks into it.
out=$(ctl reexec) || fail "reexec: $out"
wait_log 're-executed: [0-9]* workers kept running' 1 10
ctl start fds >/dev/null 2>&1
wait_log 'agent fds.0: STARTING -> EXITED' 1 10
"$WAITLOG" "$T/log/fds.0.stdout.log" '^fd 2 ' 1 5000 || fail "no output from fds.0"
assert_eq "$(cut -d' ' -f2 "$T/log/fds.0.stdout.log" | sort | tr '\n' ' ')" "0 1 2 " "descriptors of a worker started after a reexec: $(cat "$T/log/fds.0.stdout.log")"

# A watcher killed (by a worker of corrald's user, say) is replaced, and
# the new one knows every run: when corrald then dies, it still ends a
# worker deaf to its stop signal after its stop_timeout.
ctl start deaf >/dev/null || fail "cannot start deaf"
deaf=$(ctl status --json deaf | json_get 'j["workers"][0]["pid"]')
watcher=$(sed -n 's/.*watcher started (pid \([0-9]*\)).*/\1/p' "$LOG" | tail -n 1)
[ -n "$watcher" ] || fail "no watcher"
STRAYS="$deaf $watcher"
kill -KILL "$watcher"
wait_log "watcher \\(pid $watcher\\) ended \\(status 9\\); starting another" 1 5
wait_log 'watcher started \(pid [0-9]+\)' 2 5
watcher=$(sed -n 's/.*watcher started (pid \([0-9]*\)).*/\1/p' "$LOG" | tail -n 1)
STRAYS="$deaf $watcher"
kill -KILL "$CPID"
wait "$CPID" 2>/dev/null
CPID=
wait_log 'corrald-watch: corrald \(pid [0-9]+\) died; stopping the [0-9]+ runs it had' 1 5
pids_exited 10 "$deaf" || fail "the worker deaf to its stop signal outlived corrald and the new watcher"
pids_exited 10 "$watcher" || fail "the watcher did not exit"

# The token is in no log line, no file corrald writes, no worker's
# environment; corrald's environment is in no file it writes either.
for f in "$LOG" "$DB" "$DB-wal" "$T"/log/*; do
	[ -e "$f" ] && grep -q -a -F "$TOKEN" "$f" && fail "$f holds the HTTP token"
done
for f in "$DB" "$DB-wal"; do
	[ -e "$f" ] && grep -q -a -F env-marker-5b1f0c "$f" && fail "$f holds corrald's environment"
done
printf '%s\n' "$env" | grep -q -F "$TOKEN" && fail "a worker's environment holds the HTTP token"
exit 0
