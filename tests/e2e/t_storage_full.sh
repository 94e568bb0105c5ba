# A full disk under the example agent (etc/examples/counter.py; the disk
# is made full by the LD_PRELOAD shim libfault, for the checkpoint
# database's files only, while a switch file exists) is a storage error,
# never poison: every run while it lasts exits 74 (EX_IOERR) and is
# classed storage, no good checkpoint is rolled back (poison_threshold 2
# is passed twice over), the breaker does not open, and the instance waits
# storage_retry between runs with the reason in status and the log.  Once
# space is back, the next run resumes from the last checkpoint written
# before the disk filled, the reason is gone, and no human was needed.
. "$(dirname "$0")/lib.sh"

CK="$T/corral-checkpoints.db"
FULL="$T/disk-full"
SHIM="$BUILD/helpers/libfault.so"
PRE="$SHIM"
SANENV=
export CORRAL_LIBRARY="$BUILD/libcorral.so.0"
# A sanitized libcorral needs its runtime first, the shim after it; what
# Python leaves at its exit is not ours to judge (corrald's leaks are).
if [ "${SAN:-}" = 1 ]; then
	PRE="$(cc -print-file-name=libasan.so) $(cc -print-file-name=libubsan.so) $SHIM"
	SANENV="ASAN_OPTIONS=detect_leaks=0:exitcode=23"
fi
conf <<EOF2
circuit_breaker_enabled = true

[defaults]
restart = on-failure
healthy_after = 300ms
backoff_initial = 50ms
backoff_max = 100ms
stop_timeout = 5s
poison_threshold = 2
max_rollback = 3
failure_threshold = 3
storage_retry = 400ms
stderr = file

[agent:counter]
numprocs = 2
command = $PY $TOP/etc/examples/counter.py --step-ms 20
env = LD_PRELOAD="$PRE" FAULT_PATH=$CK FAULT_ERRNO=ENOSPC FAULT_SWITCH=$FULL $SANENV
EOF2
: >"$LOG"
prlimit --nproc=512 -- "$CORRALD" -c "$T/corral.ini" >>"$LOG" 2>&1 &
CPID=$!

for i in 0 1; do
	"$WAITLOG" "$T/log/counter.$i.stdout.log" '^step 10$' 1 30000 ||
	    fail "counter.$i did not count to 10"
done
touch "$FULL"
# Three storage exits each, each run after storage_retry, none rolled back.
for i in 0 1; do
	wait_log "agent counter\\.$i \\(pid [0-9]+\\): exited with code 74 .*: storage" 3 30
done
ctl status --json >"$T/st.json" || fail "status"
ctl status >"$T/st.txt" || fail "status table"
rm -f "$FULL"
# Steps are printed after their checkpoint: new ones mean writes work.
for i in 0 1; do
	n=$(grep -c '^step' "$T/log/counter.$i.stdout.log")
	"$WAITLOG" "$T/log/counter.$i.stdout.log" '^step [0-9]+$' $((n + 10)) 30000 ||
	    fail "counter.$i did not count on once the disk had room"
	wait_log "agent counter\\.$i: checkpoint storage works again \\(a new checkpoint was written\\); it had: checkpoint storage error \\((full|io)\\)"
done
"$PY" - "$T/st.json" <<'PYEOF' || fail "status while full: $(cat "$T/st.json")"
import json, sys
j = json.load(open(sys.argv[1]))
for w in j["workers"]:
    se = w["storage_error"]
    assert se is not None and se["kind"] in ("full", "io"), w
    assert se["reason"].startswith("checkpoint storage error ("), w
    assert "corral-checkpoints.db" in se["reason"], w
    assert w["state"] in ("BACKOFF", "STARTING", "RUNNING"), w
    assert w["breaker"] == "CLOSED", w
PYEOF
grep -q '^  checkpoint storage error (' "$T/st.txt" || fail "the table does not say why: $(cat "$T/st.txt")"
grep -Eq "agent counter\\.[01]: RUNNING -> BACKOFF: checkpoint storage error \\(full\\): checkpoint database $CK: .*database or disk is full; retry in 0\\.[0-9]+s \\(storage_retry; failure [0-9]+\\)" "$LOG" ||
    fail "no backoff said why"
assert_eq "$(ctl status --json | json_get '[w["storage_error"] for w in j["workers"]]')" "[None, None]" "storage errors once the disk has room"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
grep -q "rolling back" "$LOG" && fail "a good checkpoint was rolled back"
grep -q "breaker CLOSED -> OPEN" "$LOG" && fail "the breaker opened for a full disk"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind = 'rollback'")" 0 "rollback events"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind = 'exit' AND class NOT IN ('storage', 'stopped')")" 0 "exits of another class"
# Each resumed where it had got to: the last step it printed before the
# disk filled, or one more (killed between checkpoint and print).
for i in 0 1; do
	"$PY" - "$T/log/counter.$i.stdout.log" <<'PYEOF' || fail "counter.$i resumed wrong: $(cat "$T/log/counter.$i.stdout.log")"
import sys
last, resumes = 0, []
for line in open(sys.argv[1]):
    w = line.split()
    if w[0] == "step":
        assert int(w[1]) == last + 1, (last, line)
        last = int(w[1])
    elif w[0] == "resumed":
        at = int(w[2])
        assert last <= at <= last + 1, (last, at)
        resumes.append(at)
        last = at
assert resumes, "no resume"
PYEOF
	grep -q "StorageError" "$T/log/counter.$i.stderr.log" ||
	    fail "counter.$i did not say why: $(cat "$T/log/counter.$i.stderr.log")"
done
exit 0
