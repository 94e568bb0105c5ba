# make run, as a newcomer meets it: the build says one line (its compiler
# lines go to a log, shown when it fails), then the tour; the export line
# it prints makes corralctl work from any directory; Ctrl-C stops the
# fleet and leaves no process.  The fleet runs in this test's directory
# (RUN_DIR), not in the build's.
# e2e: alone (tests/run.sh): it times something, loads the machine or builds in the tree.
. "$(dirname "$0")/lib.sh"

# Run as make test runs it, the outer make's jobserver is not ours.
unset MAKEFLAGS MFLAGS MAKELEVEL
OUT="$T/make-run.out"
mk() { make --no-print-directory -C "$TOP" BUILD="$BUILD" SAN="${SAN:-}" "$@"; }

# The build is up to date here: nothing is compiled, only deps checked.
setsid sh -c 'exec "$@"' sh make --no-print-directory -C "$TOP" \
    BUILD="$BUILD" SAN="${SAN:-}" RUN_DIR="$T/run" run >"$OUT" 2>&1 &
MPID=$!
LOG="$OUT"
wait_log 'corrald .* 4 agents, 6 workers' 1 60
wait_log 'agent unstable.0: STARTING -> RUNNING' 1 20
CPID=$(sed -n 's/.*corrald [^ ]* (pid \([0-9]*\)).*/\1/p' "$OUT" | head -1)
[ -n "$CPID" ] || fail "no corrald pid in the output"

# Nothing before the tour but the one line; no compiler command anywhere.
assert_eq "$(head -1 "$OUT")" \
    "make run: building (compiler output in $BUILD/make-run.log) ..." \
    "first line"
grep -Eq '(^| )(cc|gcc|clang) |-Wall|-c [a-z-]+/[a-z_]+\.c' "$OUT" &&
    fail "compiler lines in make run's output"
grep -q 'corral: the example fleet etc/fleet.ini runs below' "$OUT" ||
    fail "no tour"

# The printed export line, pasted in a shell elsewhere.
exp=$(sed -n 's/^    \(export PATH=.*\)$/\1/p' "$OUT")
[ -n "$exp" ] || fail "no export line"
st=$(cd / && sh -c "$exp; corralctl status") ||
    fail "corralctl status from / failed: $st"
echo "$st" | grep -q '^unstable.0 ' || fail "status lacks unstable.0: $st"

# Ctrl-C reaches make and corrald (one process group): all stop.
pids=$(descendants "$CPID")
STRAYS="$pids"
kill -INT -"$MPID"
wait "$MPID"
CPID=
pids_gone 10 $pids || fail "processes left after Ctrl-C"
grep -q 'all workers stopped' "$OUT" || fail "no orderly stop"

# A failing build shows what the compiler said.
mk CC=false BUILD="$T/broken" run >"$T/broken.out" 2>&1 &&
    fail "make run succeeded with a broken compiler"
grep -q 'make run: the build failed: its output is above' "$T/broken.out" ||
    fail "no failure line: $(tail -5 "$T/broken.out")"
grep -q 'Error' "$T/broken.out" || fail "the build's output is not shown"
echo "make run: quiet build, tour, corralctl from /, Ctrl-C clean"
