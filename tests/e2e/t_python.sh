# The Python binding: its unit tests against this build's libcorral, then
# the example agent etc/examples/counter.py under corrald, killed with
# SIGKILL mid-count: each run resumes from the last checkpoint, never
# behind it, and the count ends complete.
. "$(dirname "$0")/lib.sh"

export CORRAL_LIBRARY="$BUILD/libcorral.so.0"
# A sanitized libcorral needs its runtime loaded first; Python's own
# allocations at exit are not ours to judge.
if [ "${SAN:-}" = 1 ]; then
	export LD_PRELOAD="$(cc -print-file-name=libasan.so) $(cc -print-file-name=libubsan.so)"
	export ASAN_OPTIONS="detect_leaks=0:exitcode=23"
fi
"$PY" "$TOP/tests/python/test_corral.py" >unit.out 2>&1 ||
    fail "python unit tests: $(cat unit.out)"
tail -n 3 unit.out

conf <<EOF2
[agent:counter]
command = $PY $TOP/etc/examples/counter.py --to 40 --step-ms 60
restart = on-failure
healthy_after = 100ms
backoff_initial = 50ms
stdout = file
EOF2
start_corrald
out="$T/log/counter.0.stdout.log"
for k in 5 15 25; do
	"$WAITLOG" "$out" "^step $k\$" 1 20000 || fail "the counter never reached $k"
	# 15 steps (0.9 s) before the count ends: room for a loaded machine
	# between the line and the kill, which must find the run alive.
	pid=$(ctl status --json counter | json_get 'j["workers"][0]["pid"]')
	kill -KILL "$pid" || fail "run $pid ended before its kill at step $k"
	wait_log "agent counter.0 \\(pid $pid\\): killed by signal 9"
done
"$WAITLOG" "$out" '^done at 40$' 1 30000 || fail "the counter did not finish: $(tail -n 5 "$out")"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
# Every run after the first resumed where the one before had got to (its
# last printed step, or one more if it died between checkpoint and print).
"$PY" - "$out" <<'PY' || fail "resume went wrong: $(cat "$out")"
import sys
last, resumes, seen = 0, 0, set()
for line in open(sys.argv[1]):
    w = line.split()
    if w[0] == "resumed":
        at = int(w[2])
        assert last <= at <= last + 1, (last, at)
        resumes += 1
        last = at
    elif w[0] == "step":
        k = int(w[1])
        assert k == last + 1, (last, k)
        seen.add(k)
        last = k
assert resumes == 3, resumes
# A step may be missing from the output only where a kill fell between
# its checkpoint and its print; never more than one per kill.
assert len(set(range(1, 41)) - seen) <= 3, sorted(set(range(1, 41)) - seen)
print("3 resumes, no step behind a checkpoint")
PY
