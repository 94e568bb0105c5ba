# corralctl restart --rolling AGENT: the three instances of r restart one
# at a time, each new run up (READY=1, ready = notify) before the next is
# stopped: status polled all along never shows more than one instance not
# up, corrald's log has each stop after the READY=1 of the new run before
# it, and all three end with new pids; corralctl waits and prints each
# step.  A new run that does not come up within --timeout stops the roll:
# the command fails, naming it, and the other instance keeps its old run.
# A reexec waits for an operator's roll, --no-wait too: it is refused.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[defaults]
stop_timeout = 2s

[agent:r]
command = $TW -d 300 ready
numprocs = 3
ready = notify
healthy_after = 10s

[agent:f]
command = sh -c 'if [ -e "$T/broken" ]; then exit 1; fi; exec $TW sleep'
numprocs = 2
healthy_after = 200ms
backoff_initial = 100ms
failure_threshold = 100
EOF2
start_corrald
wait_log 'agent r\.[012] \(pid [0-9]*\): ready' 3 10
wait_log 'agent f\.[01]: STARTING -> RUNNING' 2 10

# Instances of r not up: not RUNNING, or no READY=1 from this run.
down() { ctl status --json r | json_get "sum(1 for w in j['workers'] if w['state'] != 'RUNNING' or not w['ready'])"; }
rpids() { ctl status --json r | json_get "' '.join(str(w['pid']) for w in j['workers'])"; }
old=$(rpids)
STRAYS=$old
ctl restart --rolling r >roll.out 2>&1 &
rp=$!
max=0
polls=0
while kill -0 "$rp" 2>/dev/null; do
	d=$(down)
	polls=$((polls + 1))
	[ "$d" -gt "$max" ] && max=$d
	[ "$d" -le 1 ] || fail "$d instances of r down at once: $(ctl status r)"
done
wait "$rp" || fail "restart --rolling failed: $(cat roll.out)"
cat roll.out
[ "$polls" -ge 5 ] || fail "only $polls polls during the roll"
assert_eq "$max" 1 "most instances down at once"
new=$(rpids)
for p in $old; do
	case " $new " in *" $p "*) fail "pid $p survived the rolling restart" ;; esac
done
assert_eq "$(down)" 0 "instances down after the roll"
assert_eq "$(grep -c '^restarting r\.[012] (pid [0-9]*)$' roll.out)" 3 "restart steps printed"
assert_eq "$(grep -c '^r\.[012] up: pid [0-9]* -> [0-9]*, after ' roll.out)" 3 "up steps printed"
grep -q '3 of 3 instances restarted one at a time' roll.out || fail "final line: $(cat roll.out)"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND agent='r'")" 6 "spawns of r"
# The same from corrald's log, whatever the polls missed: r.K is stopped
# only after the new run of the instance before it said READY=1.
prev=0
for k in 0 1 2; do
	stop=$(grep -n "agent r\.$k: RUNNING -> STOPPING" "$LOG" | head -n 1 | cut -d: -f1)
	[ -n "$stop" ] || fail "r.$k was not stopped by the roll"
	ready=$(tail -n +"$stop" "$LOG" | grep -n "agent r\.$k (pid [0-9]*): ready" | head -n 1 | cut -d: -f1)
	[ -n "$ready" ] || fail "r.$k's new run never said READY=1"
	[ "$stop" -gt "$prev" ] || fail "r.$k was stopped before the new run of r.$((k - 1)) was ready"
	prev=$((stop + ready - 1))
done

# A new run that never comes up: the roll stops there.
fold=$(ctl status --json f | json_get "' '.join(str(w['pid']) for w in j['workers'])")
STRAYS="$STRAYS $new $fold"
touch "$T/broken"
ctl restart --rolling --timeout 1500ms f >froll.out 2>&1 && fail "a roll into a broken command succeeded"
cat froll.out
grep -q '^restarting f\.0' froll.out || fail "f.0 was not restarted first"
grep -q 'stopped: the new run of f.0 was not up within the timeout' froll.out || fail "failure message: $(cat froll.out)"
grep -q 'restarting f\.1' froll.out && fail "f.1 was restarted after f.0 failed"
f1=$(ctl status --json f:1 | json_get "j['workers'][0]['pid']")
assert_eq "$f1" "$(echo $fold | cut -d' ' -f2)" "f.1 keeps its old run"
rm -f "$T/broken"
ctl restart --rolling --no-wait r >out 2>&1 || fail "--no-wait: $(cat out)"
grep -q 'rolling restart of r begun: 3 instances, one at a time' out || fail "--no-wait reply: $(cat out)"
wait_log 'rolling restart of r: 3 of 3 instances restarted one at a time' 2 20

# An operator's roll, --no-wait too, holds a reexec back (the next image
# would not go on with it); the roll goes on to its end.
ctl restart --rolling --no-wait r >out 2>&1 || fail "--no-wait: $(cat out)"
wait_log 'rolling restart of r: restarting r\.0' 3 10
ctl reexec >out 2>&1 && fail "reexec during a --no-wait roll: $(cat out)"
grep -q 'a rolling restart of r is under way; try again when it is over' out ||
    fail "reexec refusal: $(cat out)"
wait_log 'rolling restart of r: 3 of 3 instances restarted one at a time' 3 20
ctl restart --rolling nosuch >out 2>&1 && fail "a roll of no agent accepted"
grep -q "no agent 'nosuch'" out || fail "unknown agent: $(cat out)"
STRAYS="$STRAYS $(rpids)"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
