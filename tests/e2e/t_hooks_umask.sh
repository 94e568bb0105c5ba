# Hooks (on_state_change, pre_start, post_stop) run with corrald's own
# mode mask, as a worker without umask does: a file a hook creates under
# corrald's 022 is 644, never writable by others. (The mask of a spawn
# left at 0 made it 666.)
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[defaults]
healthy_after = 100ms
stdout = null
stderr = null

[agent:a]
pre_start = /bin/sh -c 'echo x >$T/pre.out; mkdir -p $T/pre.dir'
command = /bin/sh -c 'echo x >$T/worker.out; exec sleep 600'
post_stop = /bin/sh -c 'echo x >$T/post.out'
cluster = c

[cluster:c]
min_healthy = 1
on_state_change = /bin/sh -c 'echo x >$T/change.out'
EOF2
umask 022
start_corrald
wait_log 'STARTING -> RUNNING'
ctl stop a >/dev/null || fail "stop refused"
i=0
while { [ ! -e "$T/post.out" ] || [ ! -e "$T/change.out" ]; } && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
for f in pre worker post change; do
	[ -e "$T/$f.out" ] || fail "$f.out was not made: $(tail -5 "$LOG")"
	assert_eq "$(stat -c %a "$T/$f.out")" 644 "mode of what $f made under corrald's umask 022"
done
assert_eq "$(stat -c %a "$T/pre.dir")" 755 "mode of a directory pre_start made"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
echo ok
