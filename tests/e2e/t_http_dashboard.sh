# The dashboard's files and /events over HTTP, without a browser: /,
# /dashboard.css and /dashboard.js are the files of supervisor/dashboard/
# byte for byte, with their Content-Type, Content-Security-Policy
# (default-src 'self'), X-Content-Type-Options: nosniff, served without the
# token when http_token is set; every other answer carries nosniff and the
# policy too.  The page keeps to its policy: no inline script or style, and
# its script never writes markup (no innerHTML).  /events answers the
# newest LIMIT events after ID as a JSON array, oldest first, as
# corralctl events prints them.
. "$(dirname "$0")/lib.sh"

DASH="$TOP/supervisor/dashboard"
# The page's own rules, read from the source.
grep -n '<script>\|<script [^>]*>[^<]' "$DASH/index.html" &&
    fail "inline script in index.html (the policy forbids it)"
grep -n '<style\|style=' "$DASH/index.html" &&
    fail "inline style in index.html (the policy forbids it)"
grep -n 'innerHTML\|outerHTML\|insertAdjacentHTML\|document.write\|eval(' \
    "$DASH/dashboard.js" && fail "dashboard.js writes markup"
grep -n 'http[s]*://' "$DASH/index.html" "$DASH/dashboard.css" \
    "$DASH/dashboard.js" && fail "the dashboard names another origin"

conf <<EOF2
[agent:crashy]
command = $TW -d 50 signal 11
backoff_initial = 50ms
backoff_max = 50ms
max_retries = 2
EOF2
token=s3cret-s3cret-s3cret
sed -i "s/^\[corrald\]\$/[corrald]\nhttp_listen = 127.0.0.1:0\nhttp_token = $token/" "$T/corral.ini"
start_corrald
wait_log 'http: the dashboard is at http://127.0.0.1:[0-9]+/'
port=$(sed -n 's/.*the dashboard is at http:\/\/127.0.0.1:\([0-9]*\)\/.*/\1/p' "$LOG" | tail -n 1)
wait_log 'agent crashy.0: STARTING -> FATAL'

# get PATH [TOKEN]: the status, then each header as "name: value" (lower
# case names), an empty line, then the body, into the file OUT.
get() {
	"$PY" - "$port" "$@" <<'PY'
import sys, urllib.request, urllib.error
port, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
if len(sys.argv) > 4:
    req.add_header("Authorization", "Bearer " + sys.argv[4])
try:
    r = urllib.request.urlopen(req, timeout=10)
except urllib.error.HTTPError as e:
    r = e
with open(out, "wb") as f:
    f.write(f"{r.status}\n".encode())
    for k, v in r.headers.items():
        f.write(f"{k.lower()}: {v}\n".encode())
    f.write(b"\n")
    f.write(r.read())
PY
}
hdr() { sed -n "/^\$/q; s/^$1: //p" "$2"; }
body() { sed '1,/^$/d' "$1"; }
csp="default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

for f in /:index.html:text/html /dashboard.css:dashboard.css:text/css \
    /dashboard.js:dashboard.js:text/javascript; do
	path=${f%%:*}
	rest=${f#*:}
	file=${rest%%:*}
	type=${rest#*:}
	get "$path" out   # no token: the files hold no data
	assert_eq "$(head -n 1 out)" 200 "GET $path without the token"
	assert_eq "$(hdr content-type out)" "$type; charset=utf-8" "$path's Content-Type"
	assert_eq "$(hdr content-security-policy out)" "$csp" "$path's policy"
	assert_eq "$(hdr x-content-type-options out)" nosniff "$path's nosniff"
	assert_eq "$(hdr referrer-policy out)" no-referrer "$path's Referrer-Policy"
	body out >got
	cmp -s got "$DASH/$file" || fail "$path is not supervisor/dashboard/$file"
done

# Every other answer: JSON or text, with the same headers.
for p in /status /events /metrics /nope; do
	get "$p" out "$token"
	assert_eq "$(hdr x-content-type-options out)" nosniff "$p's nosniff"
	assert_eq "$(hdr content-security-policy out)" "$csp" "$p's policy"
done
get /status out "$token"
assert_eq "$(hdr content-type out)" application/json "/status's Content-Type"
assert_eq "$(hdr cache-control out)" no-store "/status's Cache-Control"
get /nope out "$token"
assert_eq "$(head -n 1 out)" 404 "/nope"
get /events out
assert_eq "$(head -n 1 out)" 401 "/events without the token"
assert_eq "$(hdr x-content-type-options out)" nosniff "401's nosniff"

# /events: the same objects as corralctl events, oldest first.
get /events out "$token"
assert_eq "$(head -n 1 out)" 200 "/events"
assert_eq "$(hdr content-type out)" application/json "/events' Content-Type"
body out >all.json
ctl events -n 100 >ctl.txt || fail "corralctl events"
"$PY" - all.json ctl.txt <<'PY' || fail "/events is not what corralctl events prints"
import json, sys
page = json.load(open(sys.argv[1]))
ctl = [json.loads(l) for l in open(sys.argv[2]) if l.startswith("{")]
ids = [e["id"] for e in page]
assert ids == sorted(ids) and len(ids) == len(set(ids)), ids
# corralctl read later: it may have more, never other ones.
assert ctl[:len(page)] == page, (page[:2], ctl[:2])
kinds = [(e["kind"], e["agent"], e["class"]) for e in page if e["kind"] == "exit"]
assert kinds == [("exit", "crashy", "crash")] * 3, kinds
PY
n=$(json_get 'len(j)' <all.json)
last=$(json_get 'j[-1]["id"]' <all.json)
# limit: the newest N; after: only those above the id.
get "/events?limit=2" out "$token"
assert_eq "$(body out | json_get '[e["id"] for e in j]')" "[$((last - 1)), $last]" "limit=2"
get "/events?after=$((last - 3))&limit=2" out "$token"
assert_eq "$(body out | json_get '[e["id"] for e in j]')" "[$((last - 1)), $last]" "after, limit=2"
get "/events?after=$((last - 3))" out "$token"
assert_eq "$(body out | json_get '[e["id"] for e in j]')" "[$((last - 2)), $((last - 1)), $last]" "after"
get "/events?after=$last" out "$token"
assert_eq "$(body out | json_get 'j')" "[]" "after the last"
get "/events?after=0&limit=1000" out "$token"
assert_eq "$(body out | json_get 'len(j)')" "$n" "after=0"
get "/events?limit=1001" out "$token"
assert_eq "$(head -n 1 out)" 400 "limit=1001"
assert_eq "$(body out)" "400 limit=1001: want 1 to 1000" "limit=1001's reason"
get "/events?since=1" out "$token"
assert_eq "$(body out)" "400 unknown parameter 'since' (after=ID and limit=N are known)" "unknown parameter"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
