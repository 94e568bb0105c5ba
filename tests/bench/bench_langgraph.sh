# CorralSaver against LangGraph's SqliteSaver (tests/bench/bench_langgraph.mjs):
# put, putWrites, getTuple (latest, by id) and list of 100, same
# operations, same run, as ratios.  Figures are printed, not asserted; with
# $BENCH_FIGURES set they are appended to it, for bench_spawn to merge
# into results.json (docs/PERFORMANCE.md, *LangGraph JS savers*).
. "$(dirname "$0")/../e2e/lib.sh"

NODE_DIR="$BUILD/node"
NODE=$(command -v node) || fail "no node (make deps installs it)"
[ -f "$NODE_DIR/langgraph/corral.node" ] ||
    fail "no @corral/langgraph in $NODE_DIR/langgraph (make builds it)"
# The pinned packages, SqliteSaver's native better-sqlite3 included.
sh "$TOP/tests/node/install.sh" "$BUILD" native ||
    fail "cannot install tests/node's packages with better-sqlite3"
# The script beside links to the packages (tests/node/t_langgraph.sh).
cp "$TOP/tests/bench/bench_langgraph.mjs" "$T/" || fail "copy the script"
mkdir -p "$T/node_modules/@corral" &&
    ln -s "$NODE_DIR/node_modules/"* "$T/node_modules/" &&
    ln -s "$NODE_DIR/langgraph" "$T/node_modules/@corral/langgraph" ||
    fail "link the packages"
"$NODE" --expose-gc "$T/bench_langgraph.mjs" "$T/scratch" ${BENCH_FIGURES:+"$BENCH_FIGURES"} ||
    fail "bench_langgraph.mjs failed"
