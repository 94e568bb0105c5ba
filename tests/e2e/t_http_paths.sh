# The HTTP listener serves exactly what docs/OPERATIONS.md promises: GET of
# the request targets /metrics, /status, /events and the dashboard's /,
# /dashboard.css and /dashboard.js, as written, answers 200; /events with
# a query of after=ID and limit=N too, and 400 with any other query; any
# other target (a query string, a fragment, a '/' more, percent-escapes,
# another case, the absolute form, '*') answers 404 whatever the method; a
# method HTTP defines other than GET, on a served path, answers 405 with
# "Allow: GET"; a method HTTP does not define answers 501 and a request
# line that does not parse 400 (both evhttp's). With http_token the token
# is asked first: 401 with "WWW-Authenticate: Bearer" for any target
# without it, but a GET of the dashboard's files (they hold no data).
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:ok]
command = $TW sleep
EOF2
sed -i 's/^\[corrald\]$/[corrald]\nhttp_listen = 127.0.0.1:0/' "$T/corral.ini"
start_corrald
wait_log 'http: serving /metrics and /status on 127.0.0.1:[0-9]+'
port=$(sed -n 's/.*serving \/metrics and \/status on 127.0.0.1:\([0-9]*\).*/\1/p' "$LOG" | tail -n 1)

# probe [HEADER]: each stdin line is "WANT METHOD TARGET [VERSION]", sent as
# one raw request (with HEADER); prints every line whose answer differs, and
# how many were asked.
cat >"$T/probe.py" <<'PY'
import socket, sys
port, extra = int(sys.argv[1]), sys.argv[2:]
asked = 0
for line in sys.stdin:
    words = line.split()
    if not words:
        continue
    want, method, target = words[0], words[1], words[2]
    version = " ".join(words[3:]) if len(words) > 3 else "HTTP/1.1"
    target = target.replace("PORT", str(port))
    req = f"{method} {target} {version}\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    req += "".join(h + "\r\n" for h in extra)
    if method in ("POST", "PUT", "PATCH"):
        req += "Content-Length: 0\r\n"
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall((req + "\r\n").encode("latin-1"))
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head = data.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    got = head[0].split(" ")[1] if len(head[0].split(" ")) > 1 else "none"
    def header(name):
        return [h.split(":", 1)[1].strip() for h in head[1:]
                if h.lower().startswith(name.lower() + ":")]
    if got != want:
        print(f"{method} {target} {version}: {head[0]!r}, want {want}")
    elif want == "405" and header("Allow") != ["GET"]:
        print(f"{method} {target}: 405 with Allow {header('Allow')}")
    elif want == "401" and header("WWW-Authenticate") != ["Bearer"]:
        print(f"{method} {target}: 401 with WWW-Authenticate "
              f"{header('WWW-Authenticate')}")
    asked += 1
print(f"{asked} asked")
PY
probe() { "$PY" "$T/probe.py" "$port" "$@"; }

bad=$(probe <<'EOF'
200 GET /metrics
200 GET /status
200 GET /metrics HTTP/1.0
404 GET /metrics?x=1
404 GET /metrics?
404 GET /metrics?from=prometheus
404 GET /status?pretty=1
404 GET /metrics#top
200 GET /
200 GET /dashboard.css
200 GET /dashboard.js
200 GET /events
200 GET /events?after=0
200 GET /events?limit=5
200 GET /events?after=3&limit=1000
200 GET /events?limit=1&after=9223372036854775807
400 GET /events?
400 GET /events?x=1
400 GET /events?after
400 GET /events?after=
400 GET /events?after=-1
400 GET /events?after=+1
400 GET /events?after=9223372036854775808
400 GET /events?after=1&after=2
400 GET /events?limit=0
400 GET /events?limit=1001
400 GET /events?limit=%31
400 GET /events?limit=1&
400 GET /events?limit=1#x
404 GET /events/
404 GET /events#x
404 GET /Events
404 GET /?x=1
404 GET //
404 GET /index.html
404 GET /dashboard.js?v=1
404 GET /dashboard.js/
404 GET /favicon.ico
404 GET /nope
404 GET /metrics/
404 GET /status/
404 GET //metrics
404 GET /METRICS
404 GET /Status
404 GET /metrics.txt
404 GET /%6detrics
404 GET /metrics%3Fx=1
404 GET /metrics%00
404 GET /./metrics
404 GET /x/../metrics
404 GET metrics
404 GET http://127.0.0.1:PORT/metrics
404 GET *
404 POST /nope
404 DELETE /metrics?x=1
404 OPTIONS *
405 POST /metrics
405 PUT /metrics
405 DELETE /status
405 HEAD /metrics
405 HEAD /status
405 OPTIONS /metrics
405 PATCH /status
405 TRACE /metrics
405 CONNECT /status
405 POST /
405 HEAD /
405 PUT /dashboard.js
405 DELETE /events
405 POST /events?after=1
501 FOO /metrics
501 get /metrics
400 GET /metrics HTTP/2.0
400 GET /metrics HTTP/1.1 extra
EOF
)
[ "$bad" = "74 asked" ] || fail "answers not as documented:
$bad"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

# With a token: 401 first, for every target; with it, the same answers.
sed -i 's/^http_listen = .*/http_listen = 127.0.0.1:0\nhttp_token = s3cret-s3cret-s3cret/' "$T/corral.ini"
start_corrald
wait_log 'http: serving .* \(bearer token required\)'
port=$(sed -n 's/.*serving \/metrics and \/status on 127.0.0.1:\([0-9]*\).*/\1/p' "$LOG" | tail -n 1)
bad=$(probe <<'EOF'
401 GET /metrics
401 GET /metrics?x=1
401 GET /nope
401 POST /metrics
401 GET /events
401 GET /events?after=1
401 GET /events?x=1
401 GET /?x=1
401 POST /
401 HEAD /
401 DELETE /dashboard.js
200 GET /
200 GET /dashboard.css
200 GET /dashboard.js
EOF
)
[ "$bad" = "14 asked" ] || fail "without the token:
$bad"
bad=$(probe 'Authorization: Bearer s3cret-s3cret-s3cret' <<'EOF'
200 GET /metrics
200 GET /status
404 GET /metrics?x=1
404 GET /nope
405 POST /status
200 GET /events?limit=2
400 GET /events?limit=x
405 POST /
EOF
)
[ "$bad" = "8 asked" ] || fail "with the token:
$bad"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
