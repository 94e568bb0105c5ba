# An operator's restart or stop while corrald itself is stopping a run:
# for its watchdog (hang), for max_memory (memory) or to recycle it
# (max_age).  A restart answers once the new run is up, in bounded time:
# the exit keeps its class (hang, memory: the failure it was, recorded),
# then the worker starts again at once as after an operator's restart (no
# backoff, its failure count reset), one new run.  A stop, during any of
# them, leaves the worker STOPPED: nothing starts it again.
. "$(dirname "$0")/lib.sh"

# First run: silent after READY=1 (the watchdog stops it), and slow to go
# on SIGTERM (1.5 s), so that the stop lasts.  Later runs send heartbeats.
cat >"$T/hang.sh" <<EOF2
if [ -e "\$1" ]; then exec $TW heartbeat 100; fi
: >"\$1"
exec $TW -d 1500 hang
EOF2
# First run: grows past max_memory, and takes 1.5 s to go on SIGTERM.
# Later runs stay small.
cat >"$T/grow.py" <<'PY'
import os, signal, sys, time
if os.path.exists(sys.argv[1]):
    time.sleep(600)
open(sys.argv[1], "w").close()
def term(sig, frame):
    time.sleep(1.5)
    sys.exit(0)
signal.signal(signal.SIGTERM, term)
b = []
for i in range(12):
    b.append(bytearray(b'x' * (8 << 20)))
    time.sleep(0.02)
time.sleep(600)
PY
conf <<EOF2
[defaults]
healthy_after = 100ms
backoff_initial = 5s
backoff_jitter = 0
stop_timeout = 5s
stdout = null
stderr = null

[agent:hr]
command = /bin/sh $T/hang.sh $T/hr.ran
watchdog = 300ms

[agent:hs]
command = /bin/sh $T/hang.sh $T/hs.ran
watchdog = 300ms

[agent:mr]
command = $PY $T/grow.py $T/mr.ran
max_memory = 48M

[agent:ar]
command = $TW -d 1500 slow-term $T/ar.pid
max_age = 2s

[agent:as]
command = $TW -d 1500 slow-term $T/as.pid
max_age = 2s
EOF2
start_corrald

# during NAME REGEX CMD...: once REGEX is in the log, run corralctl CMD in
# the background; its output, status and time (ms) go to $T/NAME.*.
during() {
	n=$1 re=$2
	shift 2
	(
		"$WAITLOG" "$LOG" "$re" 1 20000 || { echo 124 >"$T/$n.rc"; exit; }
		t0=$(date +%s%N)
		timeout 15 "$CTL" -s "$SOCK" "$@" >"$T/$n.out" 2>&1
		echo $? >"$T/$n.rc"
		echo $(( ($(date +%s%N) - t0) / 1000000 )) >"$T/$n.ms"
	) &
	BG="$BG $!"
}
BG=
during hr 'agent hr\.0: RUNNING -> STOPPING: watchdog' restart hr:0
during hs 'agent hs\.0: RUNNING -> STOPPING: watchdog' stop hs:0
during mr 'agent mr\.0: RUNNING -> STOPPING: max_memory' restart mr:0
during ar 'agent ar\.0: RUNNING -> STOPPING: recycled' restart ar:0
during as 'agent as\.0: RUNNING -> STOPPING: recycled' stop as:0
for p in $BG; do wait "$p"; done

for n in hr hs mr ar as; do
	rc=$(cat "$T/$n.rc")
	[ "$rc" = 0 ] || fail "corralctl for $n.0 exited $rc ($(cat "$T/$n.ms" 2>/dev/null) ms): $(cat "$T/$n.out" 2>/dev/null)"
done
# Within the stop (1.5 s) and the new run's healthy_after, give or take.
for n in hr mr ar; do
	assert_eq "$(cat "$T/$n.out")" "1 running" "restart $n.0's answer"
	ms=$(cat "$T/$n.ms")
	[ "$ms" -lt 5000 ] || fail "restart $n.0 took $ms ms"
done
for n in hs as; do
	assert_eq "$(cat "$T/$n.out")" "1 stopped" "stop $n.0's answer"
done

# Each restarted one runs a new run, its failures reset, its exit kept.
j=$(ctl status --json)
for n in hr mr ar; do
	w="[w for w in j['workers'] if w['name'] == '$n.0'][0]"
	assert_eq "$(echo "$j" | json_get "$w['state']")" RUNNING "$n.0's state"
	assert_eq "$(echo "$j" | json_get "$w['failures']")" 0 "$n.0's failures"
	assert_eq "$(echo "$j" | json_get "$w['restarts']")" 1 "$n.0's restarts"
done
w="[w for w in j['workers'] if w['name'] == 'hr.0'][0]"
assert_eq "$(echo "$j" | json_get "$w['last_exit']['class']")" hang "hr.0's last exit"
assert_eq "$(echo "$j" | json_get "$w['runtime_failures']")" 1 "hr.0's runtime failures"
w="[w for w in j['workers'] if w['name'] == 'mr.0'][0]"
assert_eq "$(echo "$j" | json_get "$w['last_exit']['class']")" memory "mr.0's last exit"
w="[w for w in j['workers'] if w['name'] == 'ar.0'][0]"
assert_eq "$(echo "$j" | json_get "$w['last_exit']['class']")" stopped "ar.0's last exit"
w="[w for w in j['workers'] if w['name'] == 'hs.0'][0]"
assert_eq "$(echo "$j" | json_get "$w['state']")" STOPPED "hs.0's state"
assert_eq "$(echo "$j" | json_get "$w['held']")" True "hs.0 held"
assert_eq "$(echo "$j" | json_get "$w['last_exit']['class']")" hang "hs.0's last exit"
w="[w for w in j['workers'] if w['name'] == 'as.0'][0]"
assert_eq "$(echo "$j" | json_get "$w['state']")" STOPPED "as.0's state"
assert_eq "$(echo "$j" | json_get "$w['last_exit']['class']")" stopped "as.0's last exit"

# ar.0's new run would be recycled in turn at 2 s: stopped, it is not.
ctl stop --no-wait ar:0 >/dev/null || fail "stop --no-wait ar.0"

# A stopped worker whose exit was a failure must not come back after its
# backoff (5 s, what a failure would wait): hr.0's new run heartbeats
# through as long, and hs.0 is still STOPPED after.
wait_log 'agent hs\.0 \(pid [0-9]+\): exited with code 0' 1 5
hr=$(echo "$j" | json_get "[w for w in j['workers'] if w['name'] == 'hr.0'][0]['pid']")
"$BUILD/helpers/pidgone" 5500 "$hr" 2>/dev/null && fail "hr.0's run $hr is gone"
assert_eq "$(ctl status --json hs | json_get 'j["workers"][0]["state"]')" STOPPED "hs.0's state after its backoff"

stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
# One spawn for each run: the first and the operator's restart's.
for n in hr mr ar; do
	assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND agent='$n'")" 2 "$n's spawns"
done
for n in hs as; do
	assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND agent='$n'")" 1 "$n's spawns"
done
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='exit' AND agent='hr' AND class='hang' AND detail GLOB 'watchdog: *'")" 1 "hr's hang exit"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='exit' AND agent='mr' AND class='memory' AND detail GLOB 'max_memory: *'")" 1 "mr's memory exit"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='exit' AND agent='ar' AND class='stopped' AND detail GLOB 'recycled: *'")" 1 "ar's recycled exit"
echo "restart and stop during corrald's own stops (hang, memory, recycle): answered, one new run, no stray start"
