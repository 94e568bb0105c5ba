# Every input of every fuzzing corpus (tests/fuzz/corpus/NAME) passes
# through its harness (tests/fuzz/fuzz_NAME.c) built by this build's
# compiler with this build's sanitizers: the fleet file, control requests,
# notify datagrams, value parsers and checkpoint rows the fuzzers found,
# and the inputs of every bug they found, keep being handled.  A failure
# names the harness and the input file.
set -u
: "${BUILD:?BUILD must name the build directory}"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
# Sanitizer reports must fail the test, and leaks are errors.
export ASAN_OPTIONS="abort_on_error=0:detect_leaks=1:exitcode=23"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=23"

rc=0
n=0
for src in "$TOP"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	corpus="$TOP/tests/fuzz/corpus/${name#fuzz_}"
	n=$((n + 1))
	if [ ! -x "$BUILD/fuzz/$name" ]; then
		echo "FAIL: $BUILD/fuzz/$name is not built (make check builds it)"
		rc=1
	elif [ -z "$(ls "$corpus" 2>/dev/null)" ]; then
		echo "FAIL: $name has no corpus in $corpus"
		rc=1
	elif ! "$BUILD/fuzz/$name" "$corpus"; then
		echo "FAIL: $name: see the inputs named above"
		rc=1
	fi
done
[ $n -ge 5 ] || { echo "FAIL: $n harnesses in tests/fuzz, expected 5"; rc=1; }
exit $rc
