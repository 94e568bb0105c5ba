# Under a service manager (NOTIFY_SOCKET), corrald sends READY=1 once every
# initial worker is started and STOPPING=1 when it stops; workers never see
# corrald's NOTIFY_SOCKET (theirs is corrald's own worker socket).
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:w]
command = $TW sleep
numprocs = 100
healthy_after = 100ms
stdout = null
EOF2
# A stand-in for systemd: prints each datagram on a line of its own.
"$PY" - "$T/systemd.sock" >"$T/notify.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    m = s.recv(4096).decode()
    print(m.replace("\n", " "), flush=True)
    if m.startswith("STOPPING=1"):
        break
PY
mgr=$!
"$WAITLOG" "$T/notify.out" '^listening$' 1 10000 || fail "fake manager did not start"
NOTIFY_SOCKET="$T/systemd.sock" start_corrald
"$WAITLOG" "$T/notify.out" '^READY=1' 1 20000 || fail "no READY=1"
grep -q '^READY=1 STATUS=100 workers running' "$T/notify.out" || fail "READY came early: $(cat "$T/notify.out")"
assert_eq "$(grep -c 'spawned pid' "$LOG")" 100 "workers spawned before READY"
pid=$(q "SELECT pid FROM events WHERE kind='spawn' AND instance=42")
tr '\0' '\n' <"/proc/$pid/environ" | grep -q "^NOTIFY_SOCKET=$T/systemd.sock" && fail "a worker sees corrald's NOTIFY_SOCKET"
tr '\0' '\n' <"/proc/$pid/environ" | grep -qx "NOTIFY_SOCKET=$T/notify.sock" || fail "a worker lacks the workers' NOTIFY_SOCKET"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
wait "$mgr" || fail "the manager did not get STOPPING=1"
grep -q '^STOPPING=1' "$T/notify.out" || fail "no STOPPING=1"
