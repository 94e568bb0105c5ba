# A short chaos run (tests/chaos/chaos.py --short, about 35 s): workers
# SIGKILLed, SIGSTOPped and told to exit 75, abort or exit 64, output
# floods, corrald itself SIGKILLed and started again, reexec, reload,
# restart, reset; then every promise is checked: exact and unforked
# counts, never two live runs of one instance, nothing left behind, intact
# databases, breakers that match their events, a final checkpoint for
# every run told to stop, FATAL remembered across a restart of corrald.
#
# CHAOS_SEED=N replays a run; tests/chaos/README.md says what each check
# means.
# e2e: alone (tests/run.sh): it times something, loads the machine or builds in the tree.
: "${BUILD:?BUILD must name the build directory}"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -x "$BUILD/chaos/agent" ]; then
	make -C "$TOP" --no-print-directory BUILD="$BUILD" SAN="${SAN:-}" \
	    "$BUILD/chaos/agent" >/dev/null || exit 1
fi
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
# chaos.py bounds itself (90 s); timeout is the last resort.
exec timeout -k 10 150 "$PY" "$TOP/tests/chaos/chaos.py" --short \
    --build "$BUILD" ${CHAOS_SEED:+--seed "$CHAOS_SEED"}
