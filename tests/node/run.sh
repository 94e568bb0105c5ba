#!/bin/sh
# LangGraph JS's validation suite against CorralSaver, natively: vitest in
# BUILD/node, where make put the package (BUILD/node/langgraph), once per
# backend (SQLite, memory, PostgreSQL): the suite's 718 tests
# (saver.spec.mjs), its opt-in getDeltaChannelHistory tests
# (delta.spec.mjs) and CorralSaver's own (corral.spec.mjs); and before it
# the end-to-end tests of LangGraph JS graphs under corrald (t_*.sh).
# PostgreSQL is the server CORRAL_TEST_PG names (a connection string;
# tests/run.sh starts one and sets it): each spec file makes a database of
# its own there and drops it after; unset, the backend counts as failed.
# The pinned packages of tests/node/package-lock.json are installed there
# by install.sh when they are missing or the lock changed, not on every
# run.
#
# Every vitest test counts; a skipped one counts as failed, since the suite
# skips only by saver name (the channel-delta test).  Closing line:
# "node: N passed, N failed", which tests/run.sh adds to its own.  In a
# sanitized build (SAN set) node runs with the sanitizers' runtime preloaded.
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
dir="$BUILD/node"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
passed=0
failed=0

fail() {
	echo "node: $*"
	echo "node: $passed passed, $((failed + 1)) failed"
	exit 1
}

[ -f "$dir/langgraph/corral.node" ] ||
    fail "$dir/langgraph/corral.node is missing (make builds it)"
command -v node >/dev/null 2>&1 || fail "no node (make deps installs it)"

sh tests/node/install.sh "$BUILD" >"$out" 2>&1 ||
    { cat "$out"; fail "cannot install tests/node's packages"; }
cat "$out"
cp tests/node/vitest.config.mjs tests/node/backend.mjs \
    tests/node/saver.spec.mjs tests/node/delta.spec.mjs \
    tests/node/corral.spec.mjs "$dir/" ||
    fail "cannot copy the specs to $dir"

# A sanitized addon (SAN set) needs its runtime first in node: preload the
# sanitizer libraries it was linked with.  node frees not all at exit.
preload=""
if [ -n "$SAN" ]; then
	preload=$(ldd "$dir/langgraph/corral.node" |
	    awk '/lib(asan|ubsan|clang_rt)/ { printf "%s ", $3 }')
	[ -n "$preload" ] ||
	    fail "no sanitizer runtime linked into $dir/langgraph/corral.node"
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# Both entry points load, and give a BaseCheckpointSaver of their world.
if (cd "$dir" && LD_PRELOAD="$preload" timeout 60 node -e '
const cjs = require("./langgraph");
const lgc = require("@langchain/langgraph-checkpoint");
if (!(new cjs.CorralSaver() instanceof lgc.BaseCheckpointSaver)) process.exit(1);
import("./langgraph/index.mjs").then(async (esm) => {
	const lge = await import("@langchain/langgraph-checkpoint");
	if (!(new esm.CorralSaver() instanceof lge.BaseCheckpointSaver)) process.exit(1);
});') >"$out" 2>&1; then
	passed=$((passed + 1))
	echo "ok   node: @corral/langgraph loads with require and import"
else
	failed=$((failed + 1))
	echo "FAIL node: @corral/langgraph loads with require and import"
	sed 's/^/    /' "$out"
fi

# The end-to-end tests of LangGraph JS graphs under corrald (t_*.sh here:
# the e2e scenarios' lib.sh, run here because they need the packages).
for t in tests/node/t_*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	start=$(date +%s)
	if BUILD="$top/$BUILD" sh "$t" >"$out" 2>&1; then
		passed=$((passed + 1))
		echo "ok   node: $name ($(( $(date +%s) - start ))s)"
	else
		failed=$((failed + 1))
		echo "FAIL node: $name ($(( $(date +%s) - start ))s)"
		sed 's/^/    /' "$out"
	fi
done

for backend in sqlite memory postgres; do
	echo "== node: LangGraph's validation suite, CorralSaver($backend)"
	if [ "$backend" = postgres ] && [ -z "$CORRAL_TEST_PG" ]; then
		echo "FAIL node: CorralSaver(postgres) not run: CORRAL_TEST_PG" \
		    "is unset (a connection string to a PostgreSQL server for" \
		    "tests; tests/run.sh starts one and sets it)"
		failed=$((failed + 1))
		continue
	fi
	(cd "$dir" && CI=1 NO_COLOR=1 CORRAL_BACKEND=$backend \
	    LD_PRELOAD="$preload" timeout 900 \
	    node node_modules/vitest/vitest.mjs run) >"$out" 2>&1
	rc=$?
	cat "$out"
	line=$(sed -n 's/^ *Tests  *//p' "$out" | tail -n 1)
	p=$(echo "$line" | sed -n 's/.*\([^0-9]\|^\)\([0-9][0-9]*\) passed.*/\2/p')
	f=$(echo "$line" | sed -n 's/.*\([^0-9]\|^\)\([0-9][0-9]*\) failed.*/\2/p')
	s=$(echo "$line" | sed -n 's/.*\([^0-9]\|^\)\([0-9][0-9]*\) skipped.*/\2/p')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0} + ${s:-0}))
	if [ "${s:-0}" -gt 0 ]; then
		echo "node: $s skipped, counted as failed"
	fi
	if [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		echo "node: vitest exited $rc ($backend)"
		failed=$((failed + 1))
	fi
done

echo "node: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
