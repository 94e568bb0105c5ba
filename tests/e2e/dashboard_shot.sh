#!/bin/sh
# dashboard_shot.sh [BUILD [PNG [SECONDS]]]: the screenshot of the dashboard
# in docs/OPERATIONS.md.  Runs the example fleet (etc/fleet.ini, whose
# 'unstable' agent crash-loops) with http_listen in a directory of its own
# for SECONDS (default 40), then has headless Chromium load the dashboard
# and save it as PNG (default docs/dashboard.png), 1200x800.  Not a test:
# run by hand after changing the page (make binaries first).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$top/build}" && pwd) || exit 2
png=${2:-$top/docs/dashboard.png}
case $png in /*) ;; *) png=$PWD/$png ;; esac
secs=${3:-40}
dir=$(mktemp -d "${TMPDIR:-/tmp}/corral-shot.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid"; rm -rf "$dir"' EXIT
sed 's/^\[corrald\]$/[corrald]\nhttp_listen = 127.0.0.1:0/' \
    "$top/etc/fleet.ini" >"$dir/fleet.ini"
cd "$dir" || exit 2
PATH="$BUILD/examples:$PATH" "$BUILD/corrald" -c "$dir/fleet.ini" \
    >"$dir/corrald.log" 2>&1 &
pid=$!
url=
i=0
while [ -z "$url" ] && [ $i -lt 50 ]; do
	sleep 0.1
	url=$(sed -n 's/.*the dashboard is at \(http:[^ ]*\).*/\1/p' \
	    "$dir/corrald.log")
	i=$((i + 1))
done
[ -n "$url" ] || { echo "corrald did not serve the dashboard:" >&2;
    cat "$dir/corrald.log" >&2; exit 1; }
echo "fleet running at $url; waiting ${secs}s for its crash loop"
sleep "$secs"
timeout -k 5 60 /usr/bin/python3 "$top/tests/e2e/dashboard_check.py" \
    --deadline 50 shot "$url" "$png"
