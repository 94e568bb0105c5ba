# etc/deploy's files are well formed and agree with corrald: the
# Kubernetes manifest passes yamllint and deploy_check.py's structure
# checks (CORRAL_NODE_NAME is spec.nodeName), the Nomad job parses as HCL
# and is a system job, the Dockerfile's instructions and RUN scripts
# parse and its runtime stage installs the package of every library
# corrald, corralctl, libcorral and the examples load; each fleet file in
# them passes corrald --check, uses only keys docs/CONFIG.md lists, and
# gets a grace period at least 10 s above its longest stop_timeout.  A
# broken copy of each file fails the same checks.
. "$(dirname "$0")/lib.sh"

DEPLOY="$TOP/etc/deploy"
CHECK="$E2E_DIR/deploy_check.py"
command -v yamllint >/dev/null || fail "yamllint is missing (make deps installs it)"

# ms DURATION: a canonical duration (1m30s, 1500ms) in milliseconds.
ms() {
	echo "$1" | awk '{
		s = $0; t = 0
		while (match(s, /^[0-9.]+(ms|s|m|h|d)/)) {
			p = substr(s, 1, RLENGTH); s = substr(s, RLENGTH + 1)
			n = p + 0; u = p; sub(/^[0-9.]+/, "", u)
			if (u == "ms") f = 1
			else if (u == "s") f = 1000
			else if (u == "m") f = 60000
			else if (u == "h") f = 3600000
			else f = 86400000
			t += n * f
		}
		if (s != "") { print "bad"; exit }
		printf "%d\n", t }'
}

# fleet_ok FILE GRACE_S: the fleet checks, names documented keys only, and
# GRACE_S (empty: no grace period to judge) covers its stop timeouts.
fleet_ok() {
	"$CORRALD" --check "$1" >"$1.resolved" 2>"$1.err" ||
	    { echo "$1: corrald --check:"; cat "$1.err"; return 1; }
	for k in $(sed -n 's/^\([a-z_]*\) *[=:].*/\1/p' "$1" | sort -u); do
		grep -q "^| [^|]*\`$k\`" "$TOP/docs/CONFIG.md" ||
		    { echo "$1: key $k is not in docs/CONFIG.md"; return 1; }
	done
	[ -n "$2" ] || return 0
	max=0
	for st in $(sed -n 's/^stop_timeout = //p' "$1.resolved"); do
		v=$(ms "$st")
		[ "$v" != bad ] || { echo "$1: stop_timeout $st?"; return 1; }
		[ "$v" -le "$max" ] || max=$v
	done
	[ $(( $2 * 1000 )) -ge $(( max + 10000 )) ] || {
		echo "$1: grace period $2 s is not 10 s above the longest" \
		    "stop_timeout, $max ms"
		return 1
	}
}

# libs_ok PACKAGES: every library that BUILD's binaries need directly is
# in a Debian package in PACKAGES (or libc6, in every image).
# The Debian package of each library the binaries link, "BIN SO PKG" a
# line: asked of dpkg once (it is slow), then checked for every image.
needed_libs() {
	: >"$T/libs"
	for b in corrald corralctl libcorral.so.0 examples/counter \
	    examples/flaky-agent; do
		[ -f "$BUILD/$b" ] || { echo "no $BUILD/$b" >&2; return 1; }
		for so in $(readelf -d "$BUILD/$b" |
		    sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			case $so in
			ld-linux*) continue ;; # libc6
			libasan.so*|libubsan.so*) continue ;; # a sanitized build's
			esac
			p=$(ldd "$BUILD/$b" | awk -v so="$so" '$1 == so { print $3 }')
			[ -n "$p" ] || { echo "$b: $so not found" >&2; return 1; }
			echo "$b $so $(readlink -f "$p") $p" >>"$T/libs"
		done
	done
	# And what corral loads itself when it opens a PostgreSQL database
	# (worker-sdk/pq.c): no NEEDED entry names it.
	so=$(sed -n 's/^#define PQ_SONAME "\(.*\)"$/\1/p' "$TOP/worker-sdk/pq.c")
	p=$(ldconfig -p | awk -v so="$so" '$1 == so { print $NF; exit }')
	[ -n "$so" ] && [ -n "$p" ] || { echo "libpq ($so) not found" >&2; return 1; }
	echo "libcorral $so $(readlink -f "$p") $p" >>"$T/libs"
	# One dpkg -S for all ("pkg:arch: path" a line), by real path or link.
	# shellcheck disable=SC2046
	dpkg -S $(awk '{ print $3; print $4 }' "$T/libs" | sort -u) \
	    >"$T/owners" 2>/dev/null
	while read -r b so real p; do
		pkg=$(awk -v a="$real" -v b="$p" '{ f = $NF }
		    f == a || f == b { sub(/:.*/, ""); print; exit }' "$T/owners")
		[ -n "$pkg" ] || { echo "$b: no package has $p" >&2; return 1; }
		[ "$pkg" = libc6 ] || echo "$b $so $pkg"
	done <"$T/libs"
}

# libs_ok PACKAGES: does the image install every library needed?
libs_ok() {
	while read -r b so pkg; do
		echo "$1" | grep -qx "$pkg" || {
			echo "$b needs $so ($pkg), which the image does not install"
			return 1
		}
	done <"$T/needed"
}

# check_all DIR: every check of the files in DIR; says what failed.
# check_file DIR FILE: the checks of one of etc/deploy's files in DIR.
check_file() {
	d=$1
	case $2 in
	corrald.yaml)
		yamllint -s "$d/corrald.yaml" >"$d/lint" 2>&1 ||
		    { cat "$d/lint"; return 1; }
		g=$(python3 "$CHECK" k8s "$d/corrald.yaml" "$d/k8s.ini") ||
		    return 1
		fleet_ok "$d/k8s.ini" "$g"
		;;
	corrald.nomad)
		g=$(python3 "$CHECK" nomad "$d/corrald.nomad" "$d/nomad.ini" \
		    node-b) || return 1
		fleet_ok "$d/nomad.ini" "$g" || return 1
		grep -qx "node_name = node-b" "$d/nomad.ini" ||
		    { echo "nomad: node_name is not the node's"; return 1; }
		;;
	Dockerfile)
		pk=$(python3 "$CHECK" dockerfile "$d/Dockerfile" "$TOP") ||
		    return 1
		libs_ok "$pk"
		;;
	fleet.ini)
		fleet_ok "$d/fleet.ini" ""
		;;
	*)
		echo "no check for $2"
		return 1
		;;
	esac
}

check_all() {
	for f in corrald.yaml corrald.nomad Dockerfile fleet.ini; do
		check_file "$1" "$f" || return 1
	done
}

# copy NAME: a fresh copy of etc/deploy in $T/NAME.
copy() {
	rm -rf "$T/$1"
	mkdir "$T/$1" && cp "$DEPLOY"/* "$T/$1/" || fail "cannot copy etc/deploy"
}

needed_libs >"$T/needed" 2>needed.err ||
    fail "cannot tell the binaries' libraries: $(cat needed.err)"
copy good
check_all "$T/good" >out 2>&1 || fail "etc/deploy: $(cat out)"

# Each breakage must be caught: "FILE|sed script|what the message says".
n=0
while IFS='|' read -r file script says; do
	n=$((n + 1))
	copy "bad$n"
	sed -i "$script" "$T/bad$n/$file"
	cmp -s "$DEPLOY/$file" "$T/bad$n/$file" &&
	    fail "breakage $n ($script) changed nothing in $file"
	# The other files are the good ones, checked above.
	if check_file "$T/bad$n" "$file" >out 2>&1; then
		fail "$file broken by '$script' passes"
	fi
	grep -q "$says" out || fail "$file broken by '$script': $(cat out)"
done <<'EOF'
corrald.yaml|s/^  selector:/ selector:/|syntax error
corrald.yaml|s/fieldPath: spec.nodeName/fieldPath: metadata.name/|CORRAL_NODE_NAME is not spec.nodeName
corrald.yaml|0,/name: state$/s//name: stat/|mounts volume
corrald.yaml|s/lease_ttl = 15s/lease_ttl = 15/|duration needs a unit
corrald.yaml|s/terminationGracePeriodSeconds: 45/terminationGracePeriodSeconds: 25/|grace period
corrald.yaml|s/^    cgroup = off/    cgroups = off/|unknown key
corrald.nomad|$d|HCL
corrald.nomad|s,"secrets/pg.env","secrets/pg.env,|HCL
corrald.nomad|s/type = "system"/type = "service"/|system
corrald.nomad|s/^          node_name = .*/          node_nam = x/|unknown key
Dockerfile|s/--from=build/--from=biuld/|no stage
Dockerfile|s/^RUN ldconfig/RUN ldconfig (/|shell syntax
Dockerfile|s/^COPY --from/COPPY --from/|unknown instruction
Dockerfile|s/libinih1 //|image does not install
Dockerfile|s/libpq5 //|libpq.so.5 (libpq5), which the image does not install
fleet.ini|s/^cgroup = off/cgroup = of/|cgroup
EOF
[ "$n" -eq 16 ] || fail "ran $n breakages, not 16"
