# corrald under systemd with StandardError=journal, simulated: when
# JOURNAL_STREAM names the very file of corrald's stderr, each of its lines
# starts with the sd-daemon(3) priority (<3> error, <4> warn, <6> info, <7>
# debug) and carries no time of corrald's (journald stamps it), config
# errors at start included; a worker's inherited lines keep their
# "[NAME.N] " prefix, so that a "<3>" a worker prints is never read as a
# priority.  corralctl log still shows times.  With a JOURNAL_STREAM that
# names another file (stderr redirected since), lines are the usual ones.
. "$(dirname "$0")/lib.sh"

# start_journal DEV:INO: corrald with stderr to $LOG and that stream.
start_journal() {
	JOURNAL_STREAM=$1 "$CORRALD" -c "$T/corral.ini" >>"$LOG" 2>&1 &
	CPID=$!
}

conf <<EOF2
[agent:talk]
command = sh -c 'echo "<3>not a priority"; exec sleep 1000'
stdout = inherit
healthy_after = 100ms

[agent:stubborn]
command = $TW ignore-term
healthy_after = 100ms
stop_timeout = 200ms
EOF2
: >"$LOG"
start_journal "$(stat -c %d:%i "$LOG")"
wait_log '^<6>info: agent talk\.0: STARTING -> RUNNING$'
wait_log '^<6>info: agent stubborn\.0: STARTING -> RUNNING$'
# A warning: a worker that ignores its stop signal.
ctl stop stubborn >/dev/null || fail "cannot stop stubborn"
wait_log '^<4>warn: agent stubborn\.0 \(pid [0-9]+\): still running .*sending KILL$'
wait_log '^\[talk\.0\] <3>not a priority$'
# An error: a reload of a broken file.
cp "$T/corral.ini" "$T/good.ini"
echo "bogus line" >>"$T/corral.ini"
ctl reload >/dev/null 2>&1 && fail "a broken file reloaded"
wait_log '^<3>error: reload: '
cp "$T/good.ini" "$T/corral.ini"
out=$(ctl log -n 1) || fail "log: $out"
case "$out" in
	[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*" corrald: error: reload: "*) ;;
	*) fail "corralctl log under the journal: '$out'" ;;
esac
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
grep -q '^<7>debug: ' "$LOG" || fail "no debug line with <7>"
# Every line: a priority, or a worker's prefix; never a time of ours.
bad=$(grep -v -E '^(<[3467]>(error|warn|info|debug): |\[talk\.0\] )' "$LOG")
[ -z "$bad" ] || fail "lines without a priority: $bad"
grep -q -E '^[0-9]{4}-[0-9]{2}-' "$LOG" && fail "a line has corrald's timestamp"

# Config errors at start, too.
: >"$LOG"
echo "bogus line" >>"$T/corral.ini"
start_journal "$(stat -c %d:%i "$LOG")"
wait "$CPID"
assert_eq "$?" 78 "exit status of a bad config"
CPID=
grep -q "^<3>$T/corral.ini:[0-9]*: " "$LOG" || fail "a config error without <3>"
grep -q "^<3>$T/corral.ini: 1 error; nothing started$" "$LOG" ||
    fail "the summary without <3>"
cp "$T/good.ini" "$T/corral.ini"

# JOURNAL_STREAM of another file: the usual lines.
: >"$LOG"
ino=$(stat -c %i "$LOG")
start_journal "$(stat -c %d "$LOG"):$((ino + 1))"
wait_log '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+ corrald: info: agent talk\.0: STARTING -> RUNNING$'
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
grep -q '^<[0-9]>' "$LOG" && fail "a priority prefix without the journal"
exit 0
