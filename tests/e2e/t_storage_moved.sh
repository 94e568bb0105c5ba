# The checkpoint database deleted under running SDK workers: no worker
# goes on writing into the deleted file, nor restarts from nothing without
# anyone being told.  What must hold: each worker's next checkpoint fails
# (CORRAL_EMOVED) and it exits 74, classed storage; corrald logs the
# worker's word once per worker, logs the deletion naming the file, and
# holds every worker whose checkpoints were in it (FATAL, the reason in
# status, in /status's storage_error and in the log), including one killed
# (SIGKILL, not a storage exit) before it could notice; corrald keeps the
# deleted file open meanwhile (its data can be copied from /proc); none is
# spawned again until an operator starts it, and then it starts from what
# the file there now has, said in the log.
. "$(dirname "$0")/lib.sh"

CK="$T/corral-checkpoints.db"
conf <<EOF2
[defaults]
restart = on-failure
healthy_after = 100ms
backoff_initial = 50ms
backoff_max = 100ms
stop_timeout = 2s
storage_retry = 200ms
stderr = file

[agent:fast]
numprocs = 3
command = $BUILD/examples/counter --step-ms 20

[agent:slow]
command = $BUILD/examples/counter --step-ms 3000
EOF2
# Capped: a fault that made corrald respawn in a loop must not fork-bomb.
: >"$LOG"
prlimit --nproc=512 -- "$CORRALD" -c "$T/corral.ini" >>"$LOG" 2>&1 &
CPID=$!

for i in 0 1 2; do
	"$WAITLOG" "$T/log/fast.$i.stdout.log" '^step 20$' 1 20000 ||
	    fail "fast.$i did not count to 20"
done
# Right after slow's checkpoint: the next is 3 s away.
"$WAITLOG" "$T/log/slow.0.stdout.log" '^step 1$' 1 20000 ||
    fail "slow did not checkpoint"
slow=$(ctl status --json slow | json_get 'j["workers"][0]["pid"]')
rm -f "$CK" "$CK-wal" "$CK-shm"
kill -KILL "$slow"

# Every one held, none restarted.
for w in fast.0 fast.1 fast.2 slow.0; do
	wait_log "agent $w: [A-Z]+ -> FATAL: checkpoint storage error: the checkpoints of thread [a-z]+/[0-9] \\(the newest [0-9a-f-]+\\) were in checkpoint database $CK, which was deleted or replaced, and are not in the file there now; held until corralctl start or reset"
done
wait_log "checkpoint database $CK was deleted since it was opened; writes to it would be lost; corrald reads the file there now: 4 workers lost their checkpoints"
wait_log "agent slow\\.0 \\(pid $slow\\): killed by signal 9 .*: killed"
# The deleted file stays open in corrald, its data still there to copy.
wait_log "corrald keeps the old checkpoint database open until those workers are started again: its data can be copied from /proc/$CPID/fd"
ls -l "/proc/$CPID/fd" | grep -q "$CK (deleted)" ||
    fail "corrald does not hold the deleted file: $(ls -l "/proc/$CPID/fd")"
for i in 0 1 2; do
	wait_log "agent fast\\.$i \\(pid [0-9]+\\): exited with code 74 .*: storage"
	# The worker's word, once per worker: the SDK says it once, and the
	# worker exits.  Deleted, or replaced once corrald made the file again.
	gone="checkpoint database $CK was (deleted|replaced by another file \\(renamed over, or deleted and made again\\)) since it was opened"
	n=$(grep -cE "agent fast\\.$i \\(pid [0-9]+\\): checkpoint storage error \\(moved\\): $gone" "$LOG")
	assert_eq "$n" 1 "fast.$i's storage error lines"
	grep -qE "counter: cannot checkpoint: checkpoint database deleted or replaced while open: $gone" \
	    "$T/log/fast.$i.stderr.log" || fail "fast.$i did not say why: $(cat "$T/log/fast.$i.stderr.log")"
done
ctl status --json >"$T/st.json" || fail "status"
"$PY" - "$T/st.json" "$CK" <<'PYEOF' || fail "status: $(cat "$T/st.json")"
import json, sys
j = json.load(open(sys.argv[1]))
for w in j["workers"]:
    assert w["state"] == "FATAL", w
    assert w["pid"] is None, w
    se = w["storage_error"]
    assert se["kind"] == "lost", w
    assert sys.argv[2] in se["reason"] and "deleted or replaced" in se["reason"], w
    assert w["last_exit"]["class"] == ("killed" if w["agent"] == "slow" else "storage"), w
PYEOF
ctl status >"$T/st.txt" || fail "status table"
[ "$(grep -c '^  checkpoint storage error: the checkpoints of thread' "$T/st.txt")" = 4 ] ||
    fail "the table does not say why: $(cat "$T/st.txt")"

# The operator starts slow: it runs from what the new file has (nothing),
# and that is said.
ctl start slow >/dev/null || fail "corralctl start slow"
wait_log "agent slow\\.0: checkpoint storage error: .*; started by the operator: it runs from what the file there now has"
"$WAITLOG" "$T/log/slow.0.stdout.log" '^starting at 0$' 2 10000 ||
    fail "slow did not start again"
assert_eq "$(ctl status --json slow | json_get 'j["workers"][0]["storage_error"]')" None "slow's storage error after the start"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
# One run each before the operator's start; nothing started from 0 alone.
for a in fast slow; do
	n=$(q "SELECT count(*) FROM events WHERE kind = 'spawn' AND agent = '$a'")
	[ "$a" = fast ] && want=3 || want=2
	assert_eq "$n" "$want" "runs of $a"
done
for i in 0 1 2; do
	assert_eq "$(grep -c '^starting at 0$' "$T/log/fast.$i.stdout.log")" 1 "fresh starts of fast.$i"
done
exit 0
