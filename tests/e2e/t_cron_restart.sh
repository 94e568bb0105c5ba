# cron_restart restarts an agent's instances at the times of a cron spec
# (local time), one after another: an instance is recycled only once the
# one before is up again, so that never more than one is down.  The roll
# is a rolling restart (one per agent: corralctl restart --rolling is
# refused while it goes on), and a new run that will not come up stops
# it, the others keeping their runs.  The spec names the next minute
# (hour and minute in local time), so the test waits at most about 70 s;
# the calendar itself is test_cron's.
. "$(dirname "$0")/lib.sh"

# The next whole minute at least 10 s away.
s=$(date +%S)
ahead=1
[ "${s#0}" -ge 50 ] && ahead=2
spec="$(date -d "+$ahead min" +%M | sed 's/^0//') $(date -d "+$ahead min" +%H | sed 's/^0//') * * *"
re=$(printf '%s' "$spec" | sed 's/\*/\\*/g')

conf <<EOF2
[agent:r]
command = $TW sleep
numprocs = 3
healthy_after = 1s
stdout = null
stderr = null
cron_restart = $spec

[agent:b]
command = sh -c 'if [ -e "$T/broken" ]; then exit 1; fi; exec $TW sleep'
numprocs = 2
healthy_after = 200ms
backoff_initial = 100ms
max_retries = 1
stdout = null
stderr = null
cron_restart = $spec

[agent:other]
command = $TW sleep
healthy_after = 100ms
stdout = null
stderr = null
EOF2
start_corrald
wait_log "agent r: cron_restart $re: next at "
wait_log 'agent r\.2: STARTING -> RUNNING'
wait_log 'agent other\.0: STARTING -> RUNNING'
wait_log 'agent b\.[01]: STARTING -> RUNNING' 2 10
p0=$(ctl status --json r | json_get '" ".join(str(w["pid"]) for w in j["workers"])')
other=$(ctl status --json other | json_get 'j["workers"][0]["pid"]')
b1=$(ctl status --json b:1 | json_get 'j["workers"][0]["pid"]')
# b's new runs will fail: its roll stops at b.0.
touch "$T/broken"

wait_log 'agent r: cron_restart: restarting its 3 instances one after another' 1 135
# One roll per agent: an operator's waits for the end of the cron's.
ctl restart --rolling r >out 2>&1 && fail "a rolling restart during cron_restart's roll was accepted"
grep -q 'a cron_restart of r is under way' out || fail "refusal: $(cat out)"
wait_log 'agent r: cron_restart: every instance restarted' 1 30
wait_log 'agent b: cron_restart: stopped: the new run of b\.0 will not come up by itself' 1 30
assert_eq "$(ctl status --json b:1 | json_get 'j["workers"][0]["pid"]')" "$b1" "b.1 keeps its run"
grep -q 'agent b\.1 (pid [0-9]*): recycled' "$LOG" && fail "b.1 was recycled after b.0 failed"
assert_eq "$(grep -c 'agent r: cron_restart: r\.[012] up: pid [0-9]* -> [0-9]*, after ' "$LOG")" 3 "steps logged"
p1=$(ctl status --json r | json_get '" ".join(str(w["pid"]) for w in j["workers"])')
for p in $p0; do
	case " $p1 " in *" $p "*) fail "pid $p was not restarted ($p0 -> $p1)";; esac
done
assert_eq "$(ctl status --json r | json_get 'sum(w["failures"] + w["start_failures"] + w["runtime_failures"] for w in j["workers"])')" 0 "failures counted"
assert_eq "$(ctl status --json other | json_get 'j["workers"][0]["pid"]')" "$other" "another agent's pid"

# One after another: each recycled only after the one before is RUNNING.
line() { grep -n "$1" "$LOG" | sed -n "${2:-1}p" | cut -d: -f1; }
for k in 0 1 2; do
	r=$(line "agent r\.$k (pid [0-9]*): recycled (cron_restart $re)")
	[ -n "$r" ] || fail "r.$k was not recycled"
	eval "rec$k=$r"
	up=$(awk -v from="$r" -v pat="agent r\\\\.$k: STARTING -> RUNNING" 'NR > from && $0 ~ pat { print NR; exit }' "$LOG")
	[ -n "$up" ] || fail "r.$k did not come back"
	eval "up$k=$up"
done
[ "$rec1" -gt "$up0" ] || fail "r.1 was recycled before r.0 was up again"
[ "$rec2" -gt "$up1" ] || fail "r.2 was recycled before r.1 was up again"
grep -q "agent r\.[0-9]: STOPPING -> BACKOFF: recycled: cron_restart $re; restart now" "$LOG" ||
    fail "no recycle's restart"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
echo "ok"
