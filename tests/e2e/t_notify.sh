# The worker protocol over corrald's NOTIFY_SOCKET: READY=1 makes a worker
# RUNNING long before healthy_after; a worker that says READY and dies at
# once still backs off, each death a runtime failure; the watchdog stops a
# worker gone silent and classes its exit hang, while one that sends
# heartbeats lives on; a critical, unrecoverable report makes the exit
# fatal, its message in the exit's detail; STATUS= shows in status --json;
# datagrams from a process that is no worker, and malformed ones, are
# dropped, counted and change nothing; a non-root process cannot claim a
# worker's pid; the socket, the heartbeats and the watchdog survive reexec.
. "$(dirname "$0")/lib.sh"

REPORT='{"severity":"critical","recoverable":false,"code":"E42","message":"db gone"}'
conf <<EOF
[defaults]
backoff_initial = 100ms
backoff_multiplier = 2
backoff_max = 800ms
backoff_jitter = 0
healthy_after = 30s
failure_threshold = 1000
stop_timeout = 1s

[agent:rdy]
command = $TW ready

[agent:rdie]
command = $TW -d 20 ready-die

[agent:hb]
command = $TW heartbeat 100
watchdog = 600ms

[agent:hang]
command = $TW hang
watchdog = 300ms
restart = never

[agent:rep]
command = $TW report '$REPORT' 3

[agent:late]
command = $TW say READY=1
watchdog = 2s
restart = never
autostart = false

[agent:say]
command = $TW say 'READY=1\nSTATUS=warming up' 'no-equals-sign'
EOF
start_corrald
wait_log 'agent rdy.0: STARTING -> RUNNING: READY=1' 1 5
wait_log 'agent say.0: STARTING -> RUNNING: READY=1' 1 5
env=$(tr '\0' '\n' <"/proc/$(ctl status --json | json_get "[w['pid'] for w in j['workers'] if w['name']=='hb.0'][0]")/environ")
for v in "NOTIFY_SOCKET=$T/notify.sock" WATCHDOG_USEC=600000 CORRAL_THREAD_ID=hb/0 \
    CORRAL_CHECKPOINT_INTERVAL_MS=300000 CORRAL_AGENT=hb; do
	printf '%s\n' "$env" | grep -qx "$v" || fail "hb.0 lacks $v in its environment"
done
printf '%s\n' "$env" | grep -q '^CORRAL_CHECKPOINT_DB=/.*corral-checkpoints.db$' || fail "no CORRAL_CHECKPOINT_DB"
printf '%s\n' "$env" | grep -q '^WATCHDOG_PID=[1-9][0-9]*$' || fail "no WATCHDOG_PID"

# READY then death: a runtime failure each time, the count growing.
wait_log 'agent rdie.0: RUNNING -> BACKOFF: failed; restart in 0.800s \(failure 4\)' 1 10
grep -q 'agent rdie.0 (pid [0-9]*): exited with code 1 after .*(runtime failure)' "$LOG" ||
    fail "a death after READY=1 is not a runtime failure"

# The watchdog: silent after READY, stopped and classed hang.
wait_log 'agent hang.0 \(pid [0-9]*\): no heartbeat for 300ms \(watchdog\); stopping it' 1 5
wait_log 'agent hang.0: STOPPING -> EXITED' 1 5

# A critical, unrecoverable report: fatal.
wait_log 'agent rep.0: STARTING -> FATAL: fatal exit' 1 5
grep -q 'agent rep.0 (pid [0-9]*): reported unrecoverable critical error E42: db gone' "$LOG" ||
    fail "the report is not logged"
ctl history rep | grep -q 'db gone' || fail "corralctl history rep lacks the report"

# STATUS= and a malformed datagram from a worker.
wait_log 'dropped a datagram \(malformed\): from agent say.0' 1 5
st=$(ctl status --json | json_get "[w['status_text'] for w in j['workers'] if w['name']=='say.0'][0]")
assert_eq "$st" "warming up" "status_text of say.0"

# A process that is no worker: dropped, counted, nothing changes.
NOTIFY_SOCKET="$T/notify.sock" "$TW" send 'READY=1' || fail "cannot send to the socket"
wait_log 'dropped a datagram \(unknown_sender\): pid [0-9]* is no worker' 1 5
# Claiming a worker's pid needs CAP_SYS_ADMIN: as nobody, the kernel refuses.
rpid=$(ctl status --json | json_get "[w['pid'] for w in j['workers'] if w['name']=='rdy.0'][0]")
if [ "$(id -u)" -eq 0 ]; then
	out=$(NOTIFY_SOCKET="$T/notify.sock" setpriv --reuid=65534 --regid=65534 --clear-groups "$TW" forge "$rpid")
else
	out=$(NOTIFY_SOCKET="$T/notify.sock" "$TW" forge "$rpid")
fi
assert_eq "$out" "refused: Operation not permitted" "a non-root process forging a worker's pid"

# The heartbeating worker outlived several watchdog periods.
wait_log 'agent hb.0 \(pid [0-9]*\): heartbeat' 20 10
grep -q 'agent hb.0.*watchdog' "$LOG" && fail "hb.0's watchdog fired despite its heartbeats"

# Across reexec: the same socket, heartbeats still heard, the watchdog
# still armed (late says READY once, just before the reexec).
ctl start late >/dev/null || fail "cannot start late"
wait_log 'agent late.0: STARTING -> RUNNING: READY=1' 1 5
nb=$(grep -c 'agent hb.0 (pid [0-9]*): heartbeat' "$LOG")
out=$(ctl reexec) || fail "reexec failed: $out"
wait_log 're-executed: [0-9]* workers kept running' 1 10
wait_log 'agent hb.0 \(pid [0-9]*\): heartbeat' $((nb + 10)) 10
grep -q 'agent hb.0.*watchdog' "$LOG" && fail "hb.0's watchdog fired after the reexec"
wait_log 'agent late.0 \(pid [0-9]*\): no heartbeat for 2s \(watchdog\)' 1 5
grep -q 're-executed' "$LOG" || fail "no reexec"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

assert_eq "$(q "SELECT count(*) FROM events WHERE kind='exit' AND agent='rdie' AND start_failure=1")" 0 \
    "start failures of rdie (it said READY=1 each run)"
assert_eq "$(q "SELECT class FROM events WHERE kind='exit' AND agent='hang'")" hang "class of the silent worker"
assert_eq "$(q "SELECT class FROM events WHERE kind='exit' AND agent='late'")" hang "class of late, after the reexec"
assert_eq "$(q "SELECT class FROM events WHERE kind='exit' AND agent='rep'")" fatal "class after a critical report"
q "SELECT detail FROM events WHERE kind='exit' AND agent='rep'" | grep -q 'E42: db gone' ||
    fail "the exit's detail lacks the report"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='report' AND agent='rep'")" 1 "report events"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='exit' AND agent='rdy' AND class!='stopped'")" 0 \
    "rdy.0 changed by a stranger's datagram"
exit 0
