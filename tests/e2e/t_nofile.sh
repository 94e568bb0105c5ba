# Under a hard limit of 64 descriptors, 100 workers logging to files:
# corrald starts the workers that fit and holds the others in LIMITED, with
# one message naming the numbers (in its log, in status, in /metrics),
# tries no spawn it cannot make (no retry storm: spawns and log lines stay
# bounded over a window), stays responsive, and starts what fits once a
# reload makes room (a worker's stdout to /dev/null costs less).
# e2e: alone (tests/run.sh): it times something, loads the machine or builds in the tree.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:w]
command = $TW sleep
numprocs = 100
healthy_after = 100ms
EOF2
sed -i 's/^\[corrald\]$/[corrald]\nhttp_listen = 127.0.0.1:0/' "$T/corral.ini"
: >"$LOG"
prlimit --nofile=64:64 --nproc=4096 -- "$CORRALD" -c "$T/corral.ini" \
    >>"$LOG" 2>&1 &
CPID=$!
msg='fleet needs [0-9]+ file descriptors, the hard limit is 64: starting [0-9]+ of 100 workers; raise LimitNOFILE'
wait_log '[0-9]+ of 100 workers started; ready'
k=$(sed -n 's/.*: \([0-9]*\) of 100 workers started; ready$/\1/p' "$LOG")
[ "$k" -ge 1 ] && [ "$k" -lt 100 ] || fail "$k of 100 workers started"
wait_log "agent w\\.[0-9]+: STARTING -> RUNNING" "$k"
port=$(sed -n 's/.*serving \/metrics and \/status on 127.0.0.1:\([0-9]*\).*/\1/p' "$LOG")

# A window of 3 s in which a retry storm would show: nothing moves.
lines=$(wc -l <"$LOG")
sleep 3
lines2=$(wc -l <"$LOG")
[ "$((lines2 - lines))" -le 2 ] || fail "$((lines2 - lines)) log lines in 3 s of nothing to do"
[ "$lines2" -le $((150 + 4 * k)) ] || fail "$lines2 log lines: a storm"
grep -q 'cannot fork\|cannot accept\|cannot open log' "$LOG" && fail "a shortage at run time"
assert_eq "$(grep -cE "$msg" "$LOG")" 1 "messages about the limit"
grep -qE "starting $k of 100 workers" "$LOG" || fail "the message and the start disagree"

# Responsive: status answers at once, and says why.
t0=$(date +%s%N)
ctl status >st || fail "status: $(cat st)"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 2000 ] || fail "status took $ms ms"
grep -qE "^LIMITED: $msg\$" st || fail "status lacks the limit: $(tail -3 st)"
assert_eq "$(grep -c '^w\.[0-9]* *LIMITED ' st)" "$((100 - k))" "LIMITED rows in status"
assert_eq "$(grep -c '^w\.[0-9]* *RUNNING ' st)" "$k" "RUNNING rows in status"
ctl status --json >js || fail "status --json"
assert_eq "$(json_get 'j["limits"]["fd_limit"], j["limits"]["fd_hard_limit"], j["limits"]["workers_fit"], j["limits"]["workers_limited"]' <js)" \
    "64 64 $k $((100 - k))" "limits in status --json"
json_get 'j["limits"]["message"]' <js | grep -qE "^$msg\$" || fail "the message in status --json"
"$PY" - "$port" "$k" <<'PY' || fail "/metrics"
import sys, urllib.request
body = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics").read().decode()
k = int(sys.argv[2])
want = [f"corral_workers_limited {100 - k}", 'corral_fd_limit{kind="hard"} 64',
        f'corral_workers{{state="LIMITED"}} {100 - k}']
for w in want:
    assert w in body.splitlines(), w
need = [l for l in body.splitlines() if l.startswith("corral_fds_needed ")]
assert need and int(need[0].split()[1]) > 64, need
PY
# An operator's start of a LIMITED worker cannot help: it says so.
last=$((100 - 1))
ctl start "w:$last" >out 2>&1 && fail "start of a LIMITED worker succeeded"
grep -q "w.$last is LIMITED" out || fail "start of a LIMITED worker: $(cat out)"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn'")" "$k" "spawns"
[ "$(ls "/proc/$CPID/fd" | wc -l)" -le 64 ] || fail "more descriptors than the limit"

# stdout to /dev/null costs no descriptor: half as many, more fit, and start.
sed -i 's/^numprocs = 100$/numprocs = 100\nstdout = null/' "$T/corral.ini"
ctl reload >out 2>&1 || fail "reload: $(cat out)"
wait_log "$msg" 2
k2=$(sed -n 's/.*the hard limit is 64: starting \([0-9]*\) of 100 workers.*/\1/p' "$LOG" | tail -n 1)
[ "$k2" -gt "$k" ] || fail "after the reload, $k2 fit (before: $k)"
i=0
until [ "$(ctl status --json | json_get 'sum(w["state"] == "RUNNING" for w in j["workers"])')" = "$k2" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "$k2 workers never RUNNING: $(ctl status | tail -3)"
	sleep 0.1
done
ctl status --json | json_get 'j["limits"]["workers_limited"]' | grep -qx "$((100 - k2))" ||
    fail "LIMITED after the reload"
grep -q 'cannot fork\|cannot accept\|cannot open log' "$LOG" && fail "a shortage at run time"

echo "limit 64: $k then $k2 of 100 workers fit"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
