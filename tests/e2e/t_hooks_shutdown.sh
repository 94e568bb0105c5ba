# Hooks at shutdown: corrald's stop runs each worker's post_stop after its
# last exit and waits for it to end before exiting (a cleanup that is
# killed half-way is no cleanup); with after, what an agent comes after
# is stopped only once its dependents' post_stop has ended; a post_stop
# that hangs is killed at hook_timeout, and corrald then exits, leaving no
# process.  A second SIGTERM kills a post_stop at once.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[defaults]
healthy_after = 100ms
stop_timeout = 3s
stdout = null
stderr = null

[agent:a]
command = sh -c 'echo \$\$ >$T/a.pid; exec $TW sleep'

[agent:b]
command = $TW sleep
after = a
post_stop = sh -c 'sleep 0.5; if kill -0 \$(cat $T/a.pid) 2>/dev/null; then echo "b a-alive class=\$CORRAL_EXIT_CLASS" >>$T/post.log; else echo "b a-gone" >>$T/post.log; fi'

[agent:hung]
command = $TW sleep
post_stop = sh -c 'echo \$\$ >$T/hung.pid; exec sleep 30'
hook_timeout = 3s
EOF2
start_corrald
wait_log 'agent b\.0: STARTING -> RUNNING' 1 10
wait_log 'agent hung\.0: STARTING -> RUNNING' 1 10
t0=$(date +%s%3N)
stop_corrald
t1=$(date +%s%3N)
assert_eq "$CRC" 0 "corrald exit status"
# b's post_stop ran whole, and a was still up at its end: a is stopped
# once b's post_stop has ended.
assert_eq "$(cat "$T/post.log" 2>/dev/null)" "b a-alive class=stopped" "what b's post_stop saw"
grep -q 'agent hung\.0: post_stop still running after 3s; killing it' "$LOG" ||
    fail "hung's post_stop was not killed at its hook_timeout"
hp=$(cat "$T/hung.pid" 2>/dev/null)
[ -n "$hp" ] || fail "hung's post_stop did not run"
pids_gone 2 "$hp" || fail "hung's post_stop (pid $hp) outlived corrald"
[ $((t1 - t0)) -lt 8000 ] || fail "corrald took $((t1 - t0)) ms to stop"

# A second SIGTERM kills the post_stop still running.
: >"$T/post.log"
rm -f "$T/hung.pid"
start_corrald
wait_log 'agent hung\.0: STARTING -> RUNNING' 1 10
wait_log 'agent b\.0: STARTING -> RUNNING' 1 10
kill -TERM "$CPID"
wait_log 'agent hung\.0 \(pid [0-9]*\): exited' 1 5
# Its post_stop runs once it has said its pid (the file is made empty
# first): a TERM before that would find nothing to prove.
end=$(($(date +%s) + 5))
until [ -s "$T/hung.pid" ]; do
	[ "$(date +%s)" -lt "$end" ] || fail "hung's post_stop did not run"
	sleep 0.05
done
t0=$(date +%s%3N)
stop_corrald
t1=$(date +%s%3N)
assert_eq "$CRC" 0 "corrald exit status (second TERM)"
[ $((t1 - t0)) -lt 2000 ] || fail "a second TERM took $((t1 - t0)) ms"
hp=$(cat "$T/hung.pid")
pids_gone 2 "$hp" || fail "hung's post_stop (pid $hp) outlived corrald"
echo "ok"
