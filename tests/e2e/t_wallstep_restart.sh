# An open breaker kept across a SIGKILL of corrald half-opens when its
# monotonic period ends, whatever corrald's wall clock did meanwhile:
# stepped back an hour (not an hour longer) or ahead an hour (not at once).
# After a reboot (simulated: another boot id stored) the monotonic times
# mean nothing, and what remained of the period at the save is shortened
# by the wall-clock time since, but never lengthened by a clock gone back.
# corrald's clock is moved by the LD_PRELOAD shim libwallshift.
# e2e: alone (tests/run.sh): it times something, loads the machine or builds in the tree.
. "$(dirname "$0")/lib.sh"

SHIM="$BUILD/helpers/libwallshift.so"
SHIFT="$T/wallshift"
export ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0"

start_shifted() {
	: >"$LOG"
	LD_PRELOAD="$SHIM" WALLSHIFT_FILE="$SHIFT" "$CORRALD" -c "$T/corral.ini" \
	    >>"$LOG" 2>&1 &
	CPID=$!
}
since_boot() { cut -d' ' -f1 /proc/uptime; }
within() { awk -v a="$1" -v b="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(b - a >= lo && b - a <= hi) }'; }
gap() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }

conf <<EOF2
[agent:lock]
command = sh -c 'test -e $T/ok || exit 1; exec $TW sleep'
backoff_initial = 50ms
healthy_after = 200ms
failure_threshold = 1
recovery_timeout = 3s
half_open_max_calls = 1
EOF2

# open_then_kill: a fresh breaker opens for 3s (the time it was seen is in
# $opened), then corrald is SIGKILLed while it is open.
open_then_kill() {
	rm -f "$T/ok"
	echo 0 >"$SHIFT"
	start_shifted
	wait_log 'agent lock: breaker CLOSED -> OPEN: failure threshold reached for 3.000s'
	opened=$(since_boot)
	kill -KILL "$CPID"
	wait "$CPID" 2>/dev/null
	CPID=
	touch "$T/ok" # the trial succeeds: the next round starts CLOSED
}

# pass_for_reboot: what the last corrald stored names another boot.
pass_for_reboot() {
	"$SQLQ" -w "$DB" "UPDATE meta SET value = 'another-boot' WHERE key = 'boot_id'" &&
	    "$SQLQ" -w "$DB" "UPDATE breakers SET boot_id = 'another-boot' WHERE name = 'lock'" ||
	    fail "cannot store another boot id"
}

# restart_expect SHIFT LO HI: start corrald again with its wall clock moved
# by SHIFT seconds; the breaker half-opens LO..HI s after it was seen open.
restart_expect() {
	echo "$1" >"$SHIFT"
	start_shifted
	wait_log 'agent lock: breaker OPEN since before this start'
	wait_log 'agent lock: breaker OPEN -> HALF_OPEN: recovery timeout over' 1 15
	half=$(since_boot)
	within "$opened" "$half" "$2" "$3" ||
	    fail "shift $1s: half-opened $(gap "$opened" "$half")s after the opening was seen, expected $2..$3s"
	wait_log 'agent lock: breaker HALF_OPEN -> CLOSED: trial succeeded'
	left=$(sed -n 's/.*agent lock: breaker OPEN since before this start, \([0-9.]*\)s left.*/\1/p' "$LOG")
	stop_corrald
	assert_eq "$CRC" 0 "corrald exit status"
}

# Same boot, wall clock back an hour: the period ends on time.
open_then_kill
restart_expect -3600 2.0 12
awk -v l="$left" 'BEGIN { exit !(l > 0.5 && l <= 3.0) }' ||
    fail "clock back: ${left}s left at the restart, expected under 3s"

# Same boot, wall clock ahead an hour: not at once either.
open_then_kill
restart_expect 3600 2.0 12
awk -v l="$left" 'BEGIN { exit !(l > 0.5 && l <= 3.0) }' ||
    fail "clock ahead: ${left}s left at the restart, expected under 3s"

# A reboot, and a wall clock that went back: no wall-clock time counts as
# elapsed, and what remained at the save is left, not an hour more.
open_then_kill
pass_for_reboot
restart_expect -3600 2.0 12
grep -q 'starting after a reboot of the host' "$LOG" || fail "the start was not taken for one after a reboot"
awk -v l="$left" 'BEGIN { exit !(l > 0.5 && l <= 3.0) }' ||
    fail "reboot, clock back: ${left}s left at the restart, expected under 3s"

# A reboot, and an hour of wall-clock time since the save: the period is
# over, the breaker half-opens at once.
open_then_kill
pass_for_reboot
restart_expect 3600 0 12
assert_eq "$left" "0.000" "reboot, an hour later: time left at the restart"
