# CorralSaver against LangGraph's SqliteSaver (tests/bench/bench_langgraph.mjs):
# put, putWrites, getTuple (latest, by id) and list of 100, same
# operations, same run, as ratios.  Figures are printed, not asserted; with
# $BENCH_FIGURES set they are appended to it, for bench_spawn to merge
# into results.json (docs/PERFORMANCE.md, *LangGraph JS savers*).
. "$(dirname "$0")/../e2e/lib.sh"

NODE_DIR="$BUILD/node"
NODE=$(command -v node) || fail "no node (make deps installs it)"
[ -f "$NODE_DIR/node_modules/better-sqlite3/build/Release/better_sqlite3.node" ] ||
    fail "no native better-sqlite3 in $NODE_DIR (make bench builds it)"
cp "$TOP/tests/bench/bench_langgraph.mjs" "$T/" || fail "copy the script"
ln -s "$NODE_DIR/node_modules" "$T/node_modules" || fail "link node_modules"
"$NODE" "$T/bench_langgraph.mjs" "$T/scratch" ${BENCH_FIGURES:+"$BENCH_FIGURES"} ||
    fail "bench_langgraph.mjs failed"
