# What corrald makes on disk is no other user's business (docs/SECURITY.md,
# "File modes"): under umask 022 the control socket is 0600; the state
# database, its lock, WAL and shared-memory files, and the checkpoint
# database it makes, with its own, give others no permission; worker logs
# are 0640.  The notify socket is 0600 while every agent runs as corrald's
# user; when one runs as another user (corrald as root), that user alone
# may send to it (a POSIX ACL, mode 0620: the group bits show the ACL's
# mask): the agent's READY=1 is heard, another user's send is refused.  A
# reload that leaves no agent of another user makes it 0600 again.
. "$(dirname "$0")/lib.sh"

umask 022
# others() PATH: the permission bits corrald gives others on PATH (octal).
others() { echo $(( 0$(stat -c %a "$1") & 7 )); }

if [ "$(id -u)" -eq 0 ]; then
	# Let nobody through to the sockets (not into anything else).
	chmod 0711 "$T"
	conf <<EOF2
[agent:mine]
command = $TW sleep
healthy_after = 100ms

[agent:theirs]
command = $TW ready
user = nobody
healthy_after = 30s
EOF2
else
	conf <<EOF2
[agent:mine]
command = $TW sleep
healthy_after = 100ms
EOF2
fi
start_corrald
wait_log 'agent mine.0: STARTING -> RUNNING'

assert_eq "$(stat -c %a "$SOCK")" 600 "control socket mode"
for f in "$DB" "$DB-wal" "$DB-shm" "$DB.lock" "$T/corral-checkpoints.db" \
    "$T/corral-checkpoints.db-wal" "$T/corral-checkpoints.db-shm"; do
	[ -e "$f" ] || fail "no $f"
	assert_eq "$(others "$f")" 0 "permissions of others on $(basename "$f") ($(stat -c %a "$f"))"
done
assert_eq "$(stat -c %a "$T/log")" 755 "mode of log_dir, made by corrald"
for f in "$T"/log/*.log; do
	assert_eq "$(stat -c %a "$f")" 640 "mode of $(basename "$f")"
done

if [ "$(id -u)" -eq 0 ]; then
	stranger=$(id -u daemon) || fail "no user daemon"
	# The agent of another user is heard: READY=1, long before healthy_after.
	wait_log 'agent theirs.0: STARTING -> RUNNING: READY=1' 1 10
	assert_eq "$(stat -c %a "$T/notify.sock")" 620 "notify socket mode with an agent of another user"
	assert_eq "$(others "$T/notify.sock")" 0 "permissions of others on the notify socket"
	out=$(NOTIFY_SOCKET="$T/notify.sock" setpriv --reuid="$stranger" \
	    --regid="$stranger" --clear-groups "$TW" send READY=1 2>&1)
	assert_eq "$out" "tworker: sendmsg: Permission denied" "another user's send"
	# Every agent as corrald's user again: 0600, the ACL gone.
	conf <<EOF2
[agent:mine]
command = $TW sleep
healthy_after = 100ms
EOF2
	ctl reload >/dev/null || fail "reload"
	wait_log 'agent theirs.0: STOPPING -> STOPPED' 1 10
	assert_eq "$(stat -c %a "$T/notify.sock")" 600 "notify socket mode after the reload"
	case $(ls -l "$T/notify.sock" | cut -c 11) in
	+) fail "the notify socket keeps an ACL: $(ls -l "$T/notify.sock")" ;;
	esac
	out=$(NOTIFY_SOCKET="$T/notify.sock" setpriv --reuid=65534 \
	    --regid=65534 --clear-groups "$TW" send READY=1 2>&1)
	assert_eq "$out" "tworker: sendmsg: Permission denied" "nobody's send after the reload"
fi
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
