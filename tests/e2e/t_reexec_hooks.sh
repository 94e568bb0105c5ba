# A reexec while hooks run: the new image takes over each worker's
# pre_start and post_stop as they run, and waits for them as the old one
# would.  A pre_start is not run a second time, the worker starts once it
# succeeds, and what it writes after the exec is in corrald's log; a
# start waiting for post_stop still waits for it; a hung pre_start is
# still killed at its hook_timeout.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[defaults]
healthy_after = 100ms
stop_timeout = 3s
stdout = null
stderr = null
backoff_initial = 100ms

[agent:p]
pre_start = sh -c 'echo start >>$T/pre.log; echo started; sleep 1.5; echo end >>$T/pre.log; echo after the exec'
command = $TW sleep

[agent:q]
command = sh -c 'if [ -e $T/post.running ]; then echo race >>$T/race.log; fi; if [ ! -e $T/q.once ]; then : >$T/q.once; exit 1; fi; exec $TW sleep'
post_stop = sh -c ': >$T/post.running; sleep 1.5; rm $T/post.running; echo post done >>$T/post.log'

[agent:hung]
pre_start = sh -c 'echo \$\$ >$T/hung.pid; exec sleep 30'
hook_timeout = 2s
command = $TW sleep
EOF2
start_corrald
wait_log 'agent p\.0: pre_start: started' 1 10
wait_log 'agent q\.0: STARTING -> BACKOFF' 1 10
wait_log 'starts once its post_stop has ended' 1 10
for _ in $(seq 100); do [ -s "$T/hung.pid" ] && break; sleep 0.05; done
hp=$(cat "$T/hung.pid")
[ -n "$hp" ] || fail "hung's pre_start did not run"
ctl reexec >out 2>&1 || fail "reexec: $(cat out)"
wait_log 're-executed: ' 1 10

# p: its pre_start ran once, its output after the exec is logged, then p ran.
wait_log 'agent p\.0: pre_start: after the exec' 1 10
wait_log 'agent p\.0: STARTING -> RUNNING' 1 10
assert_eq "$(grep -c start "$T/pre.log")" 1 "pre_start runs of p"
# q: its second run waited for post_stop.
wait_log 'agent q\.0: STARTING -> RUNNING' 1 10
[ -e "$T/race.log" ] && fail "q started while its post_stop ran"
assert_eq "$(cat "$T/post.log")" "post done" "q's post_stop"
# hung: killed at its hook_timeout by the new image, not run twice.
wait_log 'agent hung\.0: pre_start still running after 2s; killing it' 1 10
pids_gone 3 "$hp" || fail "hung's pre_start (pid $hp) outlived its hook_timeout"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND agent='p'")" 1 "spawns of p"
echo "ok"
