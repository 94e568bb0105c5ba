#!/bin/sh
# Runs every test against one build (its directory is $1): the cmocka unit
# tests, the end-to-end scenarios, then LangGraph JS's validation suite
# against @corral/langgraph (tests/node/run.sh: each vitest test counts).
# Prints one closing line "N passed, N failed" and exits non-zero on any
# failure.  One PostgreSQL server (tests/pg/pg.sh) runs for the whole
# pass, in a directory of its own: every test finds it in CORRAL_TEST_PG.
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
passed=0
failed=0
out=$(mktemp)
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/corral-pg.XXXXXX")
trap 'sh tests/pg/pg.sh stop "$pgdir"; rm -f "$out"' EXIT

echo "== postgresql ($pgdir)"
if CORRAL_TEST_PG=$(sh tests/pg/pg.sh start "$pgdir" 2>"$out"); then
	export CORRAL_TEST_PG
	echo "postgresql: $CORRAL_TEST_PG"
else
	# The cases against PostgreSQL then skip: this is their failure.
	unset CORRAL_TEST_PG
	failed=$((failed + 1))
	echo "FAIL postgresql: the test server did not start:"
	sed 's/^/    /' "$out"
fi

echo "== unit tests ($BUILD)"
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	"$t" >"$out" 2>&1
	rc=$?
	cat "$out"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n 1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		echo "$t: exited $rc"
		failed=$((failed + 1))
	fi
done

# The end-to-end scenarios spend most of their time waiting for timers
# and for processes, so E2E_JOBS (the number of processors) of them run
# at once: each lane takes the next test nobody has claimed (mkdir is the
# claim).  A test whose file says "# e2e: alone" (it times something,
# loads the whole machine, or builds in the tree) runs afterwards, by
# itself.  Each result line is one write, so lines never mix; a failing
# test's output is printed after its line, in the end, in file order.
jobs=${E2E_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1
res=$(mktemp -d "${TMPDIR:-/tmp}/corral-e2e-res.XXXXXX")
trap 'sh tests/pg/pg.sh stop "$pgdir"; rm -f "$out"; rm -rf "$res"' EXIT

run_e2e() { # NAME FILE
	start=$(date +%s)
	if BUILD="$top/$BUILD" sh "$2" >"$res/$1/out" 2>&1; then
		echo ok >"$res/$1/rc"
		printf 'ok   %s (%ss)\n' "$1" "$(( $(date +%s) - start ))"
	else
		echo FAIL >"$res/$1/rc"
		printf 'FAIL %s (%ss)\n' "$1" "$(( $(date +%s) - start ))"
	fi
}

lane() { # ALONE: 0 for the tests that share the machine, 1 for the rest
	for t in tests/e2e/t_*.sh; do
		[ -f "$t" ] || continue
		a=0
		grep -q '^# e2e: alone' "$t" && a=1
		[ "$a" -eq "$1" ] || continue
		name=$(basename "$t" .sh)
		mkdir "$res/$name" 2>/dev/null || continue
		run_e2e "$name" "$t"
	done
}

echo "== end-to-end tests ($BUILD, $jobs at a time)"
i=0
while [ "$i" -lt "$jobs" ]; do
	lane 0 &
	i=$((i + 1))
done
wait
lane 1
for t in tests/e2e/t_*.sh; do
	name=$(basename "$t" .sh)
	[ -d "$res/$name" ] || continue
	if [ "$(cat "$res/$name/rc" 2>/dev/null)" = ok ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "--- FAIL $name:"
		sed 's/^/    /' "$res/$name/out"
	fi
done

echo "== node tests ($BUILD)"
sh tests/node/run.sh "$BUILD" >"$out" 2>&1
rc=$?
cat "$out"
line=$(tail -n 1 "$out")
p=$(echo "$line" | sed -n 's/^node: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
f=$(echo "$line" | sed -n 's/^node: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
passed=$((passed + ${p:-0}))
failed=$((failed + ${f:-0}))
if [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
	echo "tests/node/run.sh: exited $rc"
	failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
