#!/bin/sh
# Runs libFuzzer harnesses one after the other, on one core, each for a
# set time from its corpus; then minimizes the committed corpus
# (tests/fuzz/corpus/NAME: the fewest inputs that reach every edge reached,
# and every regress-* input, always kept); prints each run's figures and,
# at the end, the path of every crash, leak or timeout found, and exits 1.
#
# usage: run.sh FUZZ_BUILD SECONDS NAME...
# (make fuzz calls it, after building FUZZ_BUILD/fuzzers/fuzz_NAME.)
# In FUZZ_BUILD: corpus/NAME (every input found so far, kept from run to
# run), artifacts/NAME (what failed), logs/NAME.log (the last run's
# output), and totals (one line per run: NAME SECONDS EXECS RESULT).
set -u
B=${1:?usage: run.sh FUZZ_BUILD SECONDS NAME...}
SECONDS_EACH=${2:?usage: run.sh FUZZ_BUILD SECONDS NAME...}
shift 2
top=$(cd "$(dirname "$0")/../.." && pwd)
case $SECONDS_EACH in
''|*[!0-9]*) echo "run.sh: FUZZ_SECONDS must be a whole number" >&2; exit 2 ;;
esac
# Readable stacks, and every finding fatal: leaks too, UB too.
if command -v llvm-symbolizer >/dev/null 2>&1; then
	ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer)
	export ASAN_SYMBOLIZER_PATH
fi
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

found=""
failed=0
for name in "$@"; do
	bin="$B/fuzzers/fuzz_$name"
	corpus="$top/tests/fuzz/corpus/$name"
	work="$B/corpus/$name"
	fresh="$B/minimized/$name"
	art="$B/artifacts/$name"
	log="$B/logs/$name.log"
	[ -x "$bin" ] || { echo "run.sh: no harness $bin" >&2; exit 2; }
	mkdir -p "$corpus" "$work" "$art" "$B/logs"
	# Room for inputs past each parser's own limit.
	case $name in
	config) maxlen=16384 ;;
	control) maxlen=8192 ;;
	notify) maxlen=4200 ;;
	units) maxlen=256 ;;
	*) maxlen=4096 ;;
	esac
	dict=""
	[ -f "$top/tests/fuzz/$name.dict" ] && dict="-dict=$top/tests/fuzz/$name.dict"
	before=$(ls "$corpus" | wc -l)
	echo "fuzz_$name: ${SECONDS_EACH}s from $before inputs ($log)"
	# New inputs go to the first directory: the build's, not the tree's.
	t0=$(date +%s)
	"$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
	    -max_len="$maxlen" -print_final_stats=1 -artifact_prefix="$art/" \
	    $dict "$work" "$corpus" >"$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - t0 ))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | grep -o 'cov: [0-9]* ft: [0-9]*')
	if [ $rc -eq 0 ]; then
		result=ok
	else
		result="FAILED (exit $rc)"
		failed=1
		# What libFuzzer said, and where it left the input.
		grep -E '^==[0-9]+==ERROR|^SUMMARY|invariant failed|^artifact_prefix|Test unit written to|ALARM|out-of-memory' "$log" |
		    sed 's/^/    /'
		for f in $(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log"); do
			found="$found $f"
		done
	fi
	# The committed corpus: a set cover of every edge (hit counts
	# aside), so that it stays small; regress-* inputs stay as they are.
	rm -rf "$fresh"
	mkdir -p "$fresh"
	if "$bin" -set_cover_merge=1 -use_counters=0 -timeout=10 \
	    -rss_limit_mb=2048 -max_len="$maxlen" -artifact_prefix="$art/" \
	    "$fresh" "$corpus" "$work" >>"$log" 2>&1; then
		find "$corpus" -type f ! -name 'regress-*' -exec rm -f {} +
		for f in "$fresh"/*; do
			[ -e "$f" ] || continue
			# Already there as a regression input: once is enough.
			dup=""
			for r in "$corpus"/regress-*; do
				[ -e "$r" ] && cmp -s "$f" "$r" && dup=1 && break
			done
			[ -n "$dup" ] || cp "$f" "$corpus/"
		done
	else
		echo "    minimizing $corpus failed, left as it was: see $log"
	fi
	after=$(ls "$corpus" | wc -l)
	echo "fuzz_$name: $result, ${secs}s, ${execs:-?} execs, ${cov:-cov ?}, corpus $before -> $after"
	echo "$name $secs ${execs:-0} $result" >>"$B/totals"
done

if [ $failed -ne 0 ]; then
	echo "fuzz: inputs that failed (tests/fuzz/README.md says how to replay one):"
	for f in $found; do
		echo "    $f"
	done
	exit 1
fi
