# lib.sh: shared by the end-to-end scenarios.  Each scenario runs the real
# corrald, built in $BUILD, on a config of its own in a fresh directory,
# waits for events (log lines, through inotify) rather than sleeping, and
# asserts on the state database.  Logs are kept, and printed, on failure.

set -u
: "${BUILD:?BUILD must name the build directory}"
CORRALD="$BUILD/corrald"
TW="$BUILD/helpers/tworker"
WAITLOG="$BUILD/helpers/waitlog"
SQLQ="$BUILD/helpers/sqlq"
E2E_DIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$E2E_DIR/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/corral-e2e.XXXXXX")
LOG="$T/corrald.log"
DB="$T/corral-state.db"
CPID=
STRAYS=
cd "$T" || exit 2
# Sanitizer reports must fail the test, and leaks are errors.
export ASAN_OPTIONS="abort_on_error=0:detect_leaks=1:exitcode=23"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=23"

fail() {
	echo "FAIL: $*"
	echo "--- corrald log ($LOG)"
	[ -f "$LOG" ] && tail -n 60 "$LOG"
	exit 1
}

cleanup() {
	rc=$?
	# A test that failed half-way leaves corrald running: take its whole
	# tree down, workers that ignore SIGTERM and escaped ones included.
	if [ -n "$CPID" ]; then
		for p in $(descendants "$CPID"); do kill -KILL "$p" 2>/dev/null; done
		kill -KILL "$CPID" 2>/dev/null
	fi
	for p in $STRAYS; do kill -KILL "$p" 2>/dev/null; done
	# The fleet's cgroups (a corrald killed on purpose leaves them).
	cg=$("$SQLQ" "$DB" "SELECT value FROM meta WHERE key='cgroup'" 2>/dev/null)
	if [ -n "$cg" ] && [ -d "$cg" ]; then
		echo 1 >"$cg/cgroup.kill" 2>/dev/null
		for d in "$cg"/*/; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
		rmdir "$cg" 2>/dev/null
	fi
	# Its memory_max and cpu_quota cgroups (v1), empty once all is killed.
	for k in cgroup_memory cgroup_cpu; do
		cg=$("$SQLQ" "$DB" "SELECT value FROM meta WHERE key='$k'" 2>/dev/null)
		[ -n "$cg" ] && [ -d "$cg" ] || continue
		for d in "$cg"/*/; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
		rmdir "$cg" 2>/dev/null
	done
	if [ $rc -eq 0 ]; then
		rm -rf "$T"
	else
		echo "(files kept in $T)"
	fi
}
trap cleanup EXIT

# conf TEXT: write corral.ini (a [corrald] section pointing here is added).
conf() {
	{
		printf '[corrald]\nstate_db = %s\nlog_dir = %s/log\nrun_dir = %s\nlog_level = debug\n\n' \
		    "$DB" "$T" "$T"
		cat
	} >"$T/corral.ini"
}

start_corrald() {
	: >"$LOG"
	"$CORRALD" -c "$T/corral.ini" "$@" >>"$LOG" 2>&1 &
	CPID=$!
}

# start_faulty ERRNO OPS: start corrald with the LD_PRELOAD shim libfault
# on the state database: while the file $FAULT_SW exists, the calls OPS
# (write,sync,truncate,open) on it fail with ERRNO (helpers/libfault.c).
# The shim comes before a sanitized corrald's runtime in the library list.
FAULT_SW="$T/fault"
start_faulty() {
	: >"$LOG"
	ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" \
	LD_PRELOAD="$BUILD/helpers/libfault.so" FAULT_PATH="$DB" \
	FAULT_ERRNO="$1" FAULT_OPS="$2" FAULT_SWITCH="$FAULT_SW" \
	    "$CORRALD" -c "$T/corral.ini" >>"$LOG" 2>&1 &
	CPID=$!
}

# wait_log REGEX [COUNT [TIMEOUT_S]]: until COUNT log lines match.
wait_log() {
	"$WAITLOG" "$LOG" "$1" "${2:-1}" "$(( ${3:-20} * 1000 ))" ||
	    fail "waiting for '$1' x${2:-1} in the log"
}

# pids_gone TIMEOUT_S PID...: every one exited and was reaped.
pids_gone() {
	t=$1
	shift
	"$BUILD/helpers/pidgone" "$((t * 1000))" "$@"
}

# pids_exited TIMEOUT_S PID...: every one exited (a zombie counts).
pids_exited() {
	t=$1
	shift
	"$BUILD/helpers/pidgone" -x "$((t * 1000))" "$@"
}

# stop_corrald [SIGNAL]: signal corrald and wait for it; sets CRC.
stop_corrald() {
	kill -"${1:-TERM}" "$CPID"
	wait "$CPID"
	CRC=$?
	CPID=
}

# q SQL: query the state database.  corrald writes a loop turn's events at
# the end of the turn, after it logged them: an event just seen in the log
# may not be there yet.  Query what is older than the awaited log line, or
# query after corrald has exited.
q() {
	"$SQLQ" "$DB" "$1" || fail "query failed: $1"
}

# Every process whose parent chain leads to pid $1 (not $1 itself).
descendants() {
	for s in /proc/[0-9]*/stat; do
		# pid (comm) state ppid ...: comm may hold spaces, so cut at ')'.
		sed -n 's/^\([0-9]*\) (.*) . \([0-9]*\) .*/\1 \2/p' "$s" 2>/dev/null
	done | awk -v root="$1" '
		{ parent[$1] = $2 }
		END {
			for (p in parent) {
				q = parent[p]
				while (q != "" && q != 0 && q != 1) {
					if (q == root) { print p; break }
					q = parent[q]
				}
			}
		}'
}

assert_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }

CTL="$BUILD/corralctl"
SOCK="$T/corrald.sock"
ctl() { "$CTL" -s "$SOCK" "$@"; }
# Debian's python3 (the deps step installs it); a version manager's shim in
# front of it costs half a second a call.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
# json_get EXPR: evaluate a Python expression on the JSON read from stdin (j).
json_get() { "$PY" -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
