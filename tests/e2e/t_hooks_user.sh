# pre_start and post_stop of an agent with user = NAME (corrald as root)
# run as that user, as its worker does (spawn.c's one path): NAME's uid,
# its groups only (root's supplementary groups dropped), no capabilities,
# in a session of their own, stdin on /dev/null; they cannot reach the
# control socket.  What each saw is written to a directory only nobody
# may write, so a hook left as root would show too.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root"
	exit 0
fi
uid=$(id -u nobody) || fail "no user nobody"
gids=$(id -G nobody)
chmod 0711 "$T"
mkdir "$T/out"
chown nobody "$T/out"
chmod 0700 "$T/out"
cat >"$T/who.sh" <<EOF2
#!/bin/sh
# who.sh NAME: what this process is, into $T/out/NAME
{
	echo "uid \$(id -u) \$(id -ru)"
	echo "groups \$(id -G)"
	echo "caps \$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status) \$(sed -n 's/^CapPrm:[[:space:]]*//p' /proc/self/status)"
	echo "session \$(ps -o sid= -p \$\$ | tr -d ' ') \$\$"
	echo "stdin \$(readlink /proc/self/fd/0)"
	if "$BUILD/corralctl" -s "$SOCK" status >/dev/null 2>&1; then
		echo "control yes"
	else
		echo "control no"
	fi
} >"$T/out/\$1.tmp" && mv "$T/out/\$1.tmp" "$T/out/\$1"
EOF2
chmod 0755 "$T/who.sh"
conf <<EOF2
[defaults]
healthy_after = 100ms
stdout = null
stderr = null

[agent:u]
user = nobody
pre_start = $T/who.sh pre
command = sh -c '$T/who.sh worker; exec sleep 1000'
post_stop = $T/who.sh post
EOF2
start_corrald
"$WAITLOG" "$T/out/worker" "^control" 1 10000 || fail "the worker did not run: $(tail -5 "$LOG")"
ctl stop u >/dev/null || fail "stop refused"
"$WAITLOG" "$T/out/post" "^control" 1 10000 || fail "post_stop did not run: $(tail -5 "$LOG")"
for h in pre post worker; do
	[ -s "$T/out/$h" ] || fail "$h wrote nothing"
	grep -qx "uid $uid $uid" "$T/out/$h" || fail "$h: not nobody's uid: $(cat "$T/out/$h")"
	grep -qx "groups $gids" "$T/out/$h" || fail "$h: not nobody's groups ($gids): $(cat "$T/out/$h")"
	grep -qx "caps 0000000000000000 0000000000000000" "$T/out/$h" ||
	    fail "$h: capabilities left: $(cat "$T/out/$h")"
	grep -qx "stdin /dev/null" "$T/out/$h" || fail "$h: stdin: $(cat "$T/out/$h")"
	grep -qx "control no" "$T/out/$h" || fail "$h reached the control socket"
	read -r _ sid pid <<EOF2
$(grep '^session' "$T/out/$h")
EOF2
	# who.sh is the session's leader, or the sh -c before it that exec'd.
	[ "$sid" != "$(ps -o sid= -p $$ | tr -d ' ')" ] || fail "$h: in the test's session"
done
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
echo ok
