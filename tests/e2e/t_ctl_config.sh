# corralctl -c FILE (or $CORRAL_CONFIG) talks to the corrald that runs
# FILE from any directory, even when the file's control socket is relative
# to corrald's directory; -s, -c, $CORRAL_SOCKET, $CORRAL_CONFIG come in
# that order; a file with errors is a usage error that prints them.
. "$(dirname "$0")/lib.sh"

# run_dir relative: the socket is in corrald's directory's run/.
cat >"$T/corral.ini" <<EOF2
[corrald]
state_db = $DB
log_dir = $T/log
run_dir = run

[agent:w]
command = $TW sleep
healthy_after = 100ms
EOF2
: >"$LOG"
# Started with a relative -c, from $T.
"$CORRALD" -c corral.ini >>"$LOG" 2>&1 &
CPID=$!
wait_log 'agent w\.0: STARTING -> RUNNING'
[ -S "$T/run/corrald.sock" ] || fail "no socket at run/corrald.sock"

mkdir -p "$T/elsewhere/deeper"
cd "$T/elsewhere/deeper" || fail "cd"
out=$("$CTL" -c ../../corral.ini status 2>&1) || fail "-c from another directory: $out"
echo "$out" | grep -q '^w\.0  *RUNNING ' || fail "-c: $out"
out=$(CORRAL_CONFIG="$T/corral.ini" "$CTL" version 2>&1) || fail "CORRAL_CONFIG: $out"
echo "$out" | grep -q "pid $CPID\$" || fail "CORRAL_CONFIG reached another corrald: $out"
out=$(env -u CORRAL_SOCKET CORRAL_CONFIG="../../corral.ini" "$CTL" status --json w) ||
    fail "CORRAL_CONFIG, relative"

# The order: -s, then -c, then CORRAL_SOCKET, then CORRAL_CONFIG.
"$CTL" -s "$T/nowhere.sock" -c ../../corral.ini version >/dev/null 2>err
assert_eq "$?" 3 "-s before -c"
grep -q "nowhere.sock" err || fail "-s before -c: $(cat err)"
CORRAL_SOCKET="$T/nowhere.sock" "$CTL" -c ../../corral.ini version >/dev/null ||
    fail "-c before CORRAL_SOCKET"
CORRAL_SOCKET="$T/nowhere.sock" CORRAL_CONFIG="$T/corral.ini" "$CTL" version \
    >/dev/null 2>err
assert_eq "$?" 3 "CORRAL_SOCKET before CORRAL_CONFIG"
grep -q "nowhere.sock" err || fail "CORRAL_SOCKET before CORRAL_CONFIG: $(cat err)"

# No corrald runs this file: resolved here, and said so.  A process of
# another user that claims to (a "corrald -c" of it, a socket in its
# directory) is not believed.
cp "$T/corral.ini" "$T/other.ini"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	mkdir -p "$T/fake/run"
	chmod 0755 "$T" "$T/fake"
	cp "$TW" "$T/fake/corrald"
	"$PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
	    "$T/fake/run/corrald.sock"
	(cd "$T/fake" && exec setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    ./corrald sleep -c "$T/other.ini") &
	fake=$!
	STRAYS=$fake
	i=0
	until tr '\0' ' ' <"/proc/$fake/cmdline" 2>/dev/null | grep -q "other.ini"; do
		i=$((i + 1))
		[ $i -lt 200 ] || fail "the fake corrald did not start"
		sleep 0.01
	done
fi
"$CTL" -c ../../other.ini version >/dev/null 2>err
assert_eq "$?" 3 "-c of a file no corrald runs"
grep -q "cannot reach corrald at $T/elsewhere/deeper/run/corrald.sock" err ||
    fail "-c of a file no corrald runs: $(cat err)"
# A file with errors: its errors, usage exit status.
printf '[agent:x]\nnumprocs = lots\n' >"$T/bad.ini"
"$CTL" -c "$T/bad.ini" status >/dev/null 2>err
assert_eq "$?" 2 "-c of a file with errors"
grep -q "bad.ini:2: " err || fail "-c of a file with errors: $(cat err)"

cd "$T" || fail "cd"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
echo "-c and CORRAL_CONFIG found corrald's socket from another directory"
