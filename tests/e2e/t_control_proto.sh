# The control socket survives its clients: garbage, an oversized request, a
# wrong protocol version, a request never finished, a client that never
# reads, a peer of another uid (refused), and 100 clients at once; through
# all of it the loop keeps supervising.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:w]
command = $TW sleep
numprocs = 20
healthy_after = 100ms
stdout = null
EOF2
start_corrald
wait_log 'STARTING -> RUNNING' 20

# raw REQUEST_BYTES: send bytes, print what comes back (till EOF or 5 s).
raw() {
	"$PY" - "$SOCK" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().decode('unicode_escape').encode('latin-1'))
data = b''
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
except socket.timeout:
    data += b'<timeout>'
sys.stdout.write(data.decode('utf-8', 'replace'))
PY
}
assert_eq "$(raw 'hello there\n')" "- unsupported protocol 'hello' (this corrald speaks corral/1)" "garbage"
assert_eq "$(raw 'corral/1 frobnicate\n')" "- unknown command 'frobnicate' (status, start, stop, restart, signal, scale, reset, history, checkpoints, events, tail, log, reload, reexec, shutdown, version)" "unknown command"
assert_eq "$(raw 'corral/1 status \"unterminated\n')" "- bad request: unterminated double quote (a ';' after a blank starts a comment in this file)" "bad quoting"
assert_eq "$(raw '\n')" "- empty request" "empty request"
assert_eq "$(raw 'corral/1 st\x00atus\n')" "- request contains a NUL byte" "NUL byte"
big=$(head -c 5000 /dev/zero | tr '\0' 'x')
assert_eq "$(raw "corral/1 status $big\\n")" "- request longer than 4096 bytes" "oversized request"
assert_eq "$(raw "corral/1 status $big")" "- request longer than 4096 bytes" "oversized, no newline"

# Half a request: dropped after the 10 s request timeout, never a stall.
"$PY" - "$SOCK" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'corral/1 sta')
s.settimeout(20)
assert s.recv(100) == b'', 'expected the server to hang up'
PY
half=$!
# A client that asks for status of everything and never reads.
"$PY" - "$SOCK" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'corral/1 status\n')
time.sleep(3)
PY
lazy=$!
# Meanwhile the loop serves others and still supervises.
assert_eq "$(ctl status --json | json_get 'len(j["workers"])')" 20 "status while a client stalls"
kill -KILL "$(q "SELECT pid FROM events WHERE kind='spawn' AND instance=5")"
wait_log 'agent w.5: BACKOFF -> STARTING'

# 100 clients at once, each gets a whole answer.
i=0
pids=
while [ $i -lt 100 ]; do
	ctl status --json >"$T/c$i.json" 2>"$T/c$i.err" &
	pids="$pids $!"
	i=$((i + 1))
done
wait_jobs_ok=0
for j in $pids; do
	wait "$j" || wait_jobs_ok=1
done
[ $wait_jobs_ok -eq 0 ] || fail "a concurrent client failed: $(cat "$T"/c*.err)"
assert_eq "$("$PY" -c 'import json, sys
print(sum(len(json.load(open(f))["workers"]) == 20 for f in sys.argv[1:]))' "$T"/c*.json)" 100 "whole answers"
wait "$half" || fail "the half-sent request was not dropped"
wait "$lazy"
wait_log 'control: client too slow \(request unfinished\), dropped'

# Another uid is refused, and told so.
if [ "$(id -u)" -eq 0 ]; then
	chmod 755 "$T"
	chmod 666 "$SOCK" # let nobody reach it at all: the uid check must hold
	out=$("$PY" - "$SOCK" <<'PY'
import os, socket, sys
os.setgid(65534); os.setuid(65534)
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'corral/1 stop all\n')
print(s.recv(100).decode().strip())
PY
)
	assert_eq "$out" "- permission denied" "reply to another uid"
	wait_log 'control: refused a client \(uid 65534'
	assert_eq "$(ctl status --json | json_get 'sum(w["state"]=="RUNNING" for w in j["workers"])')" 20 "workers after a refused stop"
fi
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
