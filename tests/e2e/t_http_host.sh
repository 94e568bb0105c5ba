#!/bin/sh
# Without http_token the HTTP listener is on loopback, and it serves only
# a request whose Host is an address or localhost: a web page whose own
# name is made to resolve to 127.0.0.1 (DNS rebinding) cannot read /status
# or /events through the browser of someone on this machine as its own
# origin (421 Misdirected Request). A request without Host (HTTP/1.0) is
# served, as scrapers send it. With a token the Host is not asked: the
# token is the check, and a name is how such a listener is reached.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:ok]
command = $TW sleep
EOF2
sed -i 's/^\[corrald\]$/[corrald]\nhttp_listen = 127.0.0.1:0/' "$T/corral.ini"
start_corrald
wait_log 'http: serving /metrics and /status on 127.0.0.1:[0-9]+'
port=$(sed -n 's/.*serving \/metrics and \/status on 127.0.0.1:\([0-9]*\).*/\1/p' "$LOG" | tail -n 1)

# code HOST PATH [CURL OPTION...]: the answer's status code.
code() {
	h=$1 p=$2
	shift 2
	curl -s -o "$T/body" -w '%{http_code}' -H "Host: $h" "$@" \
	    "http://127.0.0.1:$port$p"
}
for p in /status /events /metrics / /dashboard.js; do
	for h in evil.example "evil.example:$port" "127.0.0.1.evil.example:$port" "localhost.evil.example"; do
		got=$(code "$h" "$p")
		assert_eq "$got" 421 "GET $p with Host: $h"
	done
	for h in 127.0.0.1 "127.0.0.1:$port" "localhost:$port" LOCALHOST "[::1]:$port"; do
		got=$(code "$h" "$p")
		assert_eq "$got" 200 "GET $p with Host: $h"
	done
done
code evil.example /status >/dev/null
grep -q 'without http_token only a Host of an address or localhost is served' "$T/body" ||
    fail "421's body does not say why: $(cat "$T/body")"
grep -q 'evil' "$T/body" && fail "421's body echoes the Host"
# HTTP/1.0 without Host: served.
got=$("$PY" - "$port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET /status HTTP/1.0\r\n\r\n")
data = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    data += c
print(data.split(b"\r\n")[0].decode())
PY
)
case $got in "HTTP/1."?" 200 "*) ;; *) fail "HTTP/1.0 without Host: $got" ;; esac
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

# With a token, any Host: the token is what is checked.
sed -i 's/^http_listen = .*/http_listen = 127.0.0.1:0\nhttp_token = s3cret-s3cret-s3cret/' "$T/corral.ini"
start_corrald
wait_log 'http: serving .* \(bearer token required\)'
port=$(sed -n 's/.*serving \/metrics and \/status on 127.0.0.1:\([0-9]*\).*/\1/p' "$LOG" | tail -n 1)
assert_eq "$(code corral.example.net /status -H 'Authorization: Bearer s3cret-s3cret-s3cret')" 200 "a name with the token"
assert_eq "$(code corral.example.net /status)" 401 "a name without the token"
assert_eq "$(code corral.example.net /)" 200 "the page by a name, with a token set"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
echo "ok"
