#!/bin/sh
# install.sh BUILD [native]: the pinned packages of tests/node/package-lock.json
# in BUILD/node/node_modules, installed with npm ci when they are missing or
# the lock changed, not on every run (node_modules/.corral-lock is the lock
# they were installed from); without their install scripts, which nothing
# but better-sqlite3's native module needs.  They are JavaScript, the same
# for every build: installed once in build/npm and linked from each
# BUILD/node, so make test's sanitized pass does not download them again.  With "native" (make bench, for
# LangGraph's SqliteSaver): that module too, built from source against the
# node on PATH (its headers: npm_config_nodedir, /usr when node_api.h is in
# /usr/include/node; npm's own node-gyp), about 70 s once.
# Run by tests/node/run.sh and tests/bench/bench_langgraph.sh.
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
dir="$BUILD/node"
out=$(mktemp)
trap 'rm -f "$out"' EXIT

npm_dir="$top/build/npm"
mkdir -p "$dir" "$npm_dir" || exit 1
if ! cmp -s tests/node/package-lock.json "$npm_dir/node_modules/.corral-lock"
then
	echo "node: installing tests/node's pinned packages into $npm_dir (npm ci)"
	cp tests/node/package.json tests/node/package-lock.json "$npm_dir/" || {
		echo "node: cannot copy tests/node's package files to $npm_dir"
		exit 1
	}
	(cd "$npm_dir" && timeout 900 npm ci --ignore-scripts --no-audit \
	    --no-fund --loglevel=error) >"$out" 2>&1 ||
	    { cat "$out"; echo "node: npm ci failed in $npm_dir"; exit 1; }
	cp tests/node/package-lock.json "$npm_dir/node_modules/.corral-lock"
fi
if [ "$(readlink "$dir/node_modules")" != "$npm_dir/node_modules" ]; then
	rm -rf "$dir/node_modules" &&
	    ln -s "$npm_dir/node_modules" "$dir/node_modules" ||
	    { echo "node: cannot link $dir/node_modules"; exit 1; }
fi

if [ "${2:-}" = native ] &&
    [ ! -f "$dir/node_modules/better-sqlite3/build/Release/better_sqlite3.node" ]
then
	echo "node: building better-sqlite3's native module in $npm_dir (about 70 s)"
	if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_api.h ]
	then
		npm_config_nodedir=/usr
		export npm_config_nodedir
	fi
	# From source: no download of a prebuilt binary.
	(cd "$npm_dir" && npm_config_build_from_source=true timeout 900 \
	    npm rebuild better-sqlite3 --no-audit --no-fund \
	    --loglevel=error) >"$out" 2>&1 || {
		cat "$out"
		echo "node: cannot build better-sqlite3 in $npm_dir"
		exit 1
	}
fi
exit 0
