# corralctl signal SIG TARGET: the signal reaches the run's process group
# (the worker and its children), the run goes on (no stop, no restart),
# a worker without a process is named and fails the command, and an
# exit the signal causes is classified and restarted like any other.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:w]
command = sh -c 'trap "echo got HUP" HUP; trap "echo child got USR1 >&2" USR1; (trap "echo grandchild got HUP" HUP; trap "echo grandchild got USR1" USR1; while :; do sleep 0.05; done) & while :; do sleep 0.05; done'
stdout = file
stderr = file
healthy_after = 100ms
restart = always
backoff_initial = 50ms

[agent:idle]
command = $TW sleep
autostart = false
EOF2
start_corrald
wait_log 'agent w\.0: STARTING -> RUNNING'
pid=$(ctl status --json w | json_get 'j["workers"][0]["pid"]')

out=$(ctl signal HUP w) || fail "signal HUP: $out"
assert_eq "$out" "1 signalled (SIGHUP)" "the answer to signal HUP"
"$WAITLOG" "$T/log/w.0.stdout.log" '^got HUP$' 1 10000 || fail "the worker did not get HUP"
"$WAITLOG" "$T/log/w.0.stdout.log" '^grandchild got HUP$' 1 10000 ||
    fail "the run's child did not get HUP"
# The whole group: the worker's child gets it too.
out=$(ctl signal SIGUSR1 w:0) || fail "signal USR1: $out"
"$WAITLOG" "$T/log/w.0.stdout.log" '^grandchild got USR1$' 1 10000 ||
    fail "the run's child did not get USR1"
"$WAITLOG" "$T/log/w.0.stderr.log" '^child got USR1$' 1 10000 ||
    fail "the worker did not get USR1"
assert_eq "$(ctl status --json w | json_get 'j["workers"][0]["pid"]')" "$pid" "the run after HUP and USR1"
assert_eq "$(ctl status --json w | json_get 'j["workers"][0]["restarts"]')" 0 "restarts after HUP and USR1"

# A target without a process: named, and the command fails.
out=$(ctl signal HUP idle w 2>&1)
rc=$?
[ $rc -ne 0 ] || fail "signal to a stopped worker succeeded: $out"
echo "$out" | grep -q '1 of 2 not running, not signalled: idle.0 is STOPPED' ||
    fail "signal to a stopped worker: $out"
"$WAITLOG" "$T/log/w.0.stdout.log" '^got HUP$' 2 10000 ||
    fail "the running one was not signalled beside the stopped one"

# Bad requests name what is wrong.
out=$(ctl signal BOGUS w 2>&1) && fail "signal BOGUS succeeded: $out"
echo "$out" | grep -q "bad signal 'BOGUS'" || fail "signal BOGUS: $out"
out=$(ctl signal HUP nosuch 2>&1) && fail "signal to no agent succeeded: $out"

# TERM ends the run: not a stop, so the restart policy runs it again.
ctl signal TERM w >/dev/null || fail "signal TERM"
wait_log "agent w\\.0 \\(pid $pid\\): .*signal 15"
wait_log 'agent w\.0: STARTING -> RUNNING' 2
assert_eq "$(ctl status --json w | json_get 'j["workers"][0]["restarts"]')" 1 "restarts after TERM"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
echo "HUP and USR1 reached the group, a stopped target failed, TERM restarted"
