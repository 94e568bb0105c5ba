# A step of the wall clock does not move an open breaker: opened for 3s,
# then corrald's wall clock goes back an hour, and the breaker still
# half-opens 3s after it opened (not an hour later), while the events it
# records carry the stepped wall-clock time.  corrald's clock is moved by
# the LD_PRELOAD shim libwallshift, never the machine's.
# e2e: alone (tests/run.sh): it times something, loads the machine or builds in the tree.
. "$(dirname "$0")/lib.sh"

SHIM="$BUILD/helpers/libwallshift.so"
SHIFT="$T/wallshift"
# The shim comes before a sanitized corrald's runtime in the library list.
export ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0"

# start_shifted: start corrald with its wall clock moved by $SHIFT seconds.
start_shifted() {
	: >"$LOG"
	LD_PRELOAD="$SHIM" WALLSHIFT_FILE="$SHIFT" "$CORRALD" -c "$T/corral.ini" \
	    >>"$LOG" 2>&1 &
	CPID=$!
}
# The test's own clock: seconds since boot, which no wall clock step moves.
since_boot() { cut -d' ' -f1 /proc/uptime; }
# within A B LO HI: is B - A in [LO, HI]?
within() { awk -v a="$1" -v b="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(b - a >= lo && b - a <= hi) }'; }

conf <<EOF2
[agent:flaky]
command = $TW -d 20 exit 1
backoff_initial = 50ms
backoff_max = 50ms
healthy_after = 1s
failure_threshold = 1
recovery_timeout = 3s
half_open_max_calls = 1
EOF2
echo 0 >"$SHIFT"
start_shifted
wait_log 'agent flaky: breaker CLOSED -> OPEN: failure threshold reached for 3.000s'
opened=$(since_boot)
echo -3600 >"$SHIFT"
# Before the fix: the timer fired after 3s, the wall clock said an hour
# was left, and the breaker waited that hour.
wait_log 'agent flaky: breaker OPEN -> HALF_OPEN: recovery timeout over' 1 15
half=$(since_boot)
# Generous bounds (a shared, noisy machine): on time is 3s after the
# opening, seen at most a little late; "an hour later" is far outside.
within "$opened" "$half" 2.0 12 ||
    fail "half-opened $(awk -v a="$opened" -v b="$half" 'BEGIN { print b - a }')s after the opening was seen, expected about 3s"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
# The shim did move corrald's wall clock: the half-open is recorded about
# an hour before the opening, in the order it happened.
step=$(q "SELECT h.time_ms - o.time_ms FROM events o JOIN events h
    ON h.kind = 'breaker' AND h.agent = 'flaky' AND h.state = 'HALF_OPEN'
    AND h.id > o.id WHERE o.kind = 'breaker' AND o.agent = 'flaky'
    AND o.state = 'OPEN' ORDER BY o.id, h.id LIMIT 1")
[ -n "$step" ] && [ "$step" -lt -3590000 ] && [ "$step" -gt -3600000 ] ||
    fail "the half-open's record is ${step}ms after the opening's; expected an hour less 3s (the stepped wall clock)"
