# corralctl history shows an agent's runs and error chains from the state
# database; events prints typed JSON lines and -f streams new ones as they
# happen; tail prints a worker's last lines and -f follows its output.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:talker]
command = sh -c 'i=0; while :; do i=\$((i+1)); echo "line \$i"; sleep 0.05; done'
healthy_after = 200ms

[agent:crashy]
command = $TW -d 50 signal 11
healthy_after = 1s
backoff_initial = 100ms
backoff_max = 100ms
max_retries = 3
EOF2
start_corrald
wait_log 'agent crashy.0: STARTING -> FATAL: max_retries reached'

ctl history crashy >hist || fail "history failed"
cat hist
assert_eq "$(grep -c 'crashy.0 .* crash  *SIGSEGV  *1  start' hist)" 4 "history rows (4 runs, chain 1, start failures)"
ctl history nosuch >hist2 || fail "history of an unknown agent"
assert_eq "$(wc -l <hist2)" 1 "history of an unknown agent: header only"

ctl events -n 5 >ev || fail "events failed"
assert_eq "$(wc -l <ev)" 5 "events -n 5"
"$PY" -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ids = [r["id"] for r in rows]
assert ids == sorted(ids) and len(set(ids)) == 5, ids
assert set(rows[0]) >= {"id", "time_ms", "kind", "agent", "instance", "pid", "class", "chain", "detail"}
' ev || fail "events are not 5 ordered JSON objects"

# Follow: a stop of talker shows up as it happens.
# One old event first: once it is there, the follower is subscribed.
ctl events -f -n 1 talker >follow 2>&1 &
fpid=$!
"$WAITLOG" follow '"agent":"talker"' 1 10000 || fail "events -f printed nothing"
ctl stop talker >/dev/null
"$WAITLOG" follow '"kind":"exit".*"class":"stopped"' 1 10000 || fail "followed events miss the exit: $(cat follow)"
grep -q '"prev_state":"RUNNING","class":null.*' follow || grep -q '"state":"STOPPING"' follow || fail "no STOPPING in the stream"
grep -q 'crashy' follow && fail "events -f talker shows crashy"
kill "$fpid"
ctl start talker >/dev/null

# tail: the last lines of the log file; -f follows new output.
wait_log 'agent talker.0: STARTING -> RUNNING' 2
ctl tail -n 3 talker >t1 || fail "tail failed"
assert_eq "$(wc -l <t1)" 3 "tail -n 3"
grep -qx 'line [0-9]*' t1 || fail "tail lines: $(cat t1)"
ctl tail -f -n 1 talker >t2 &
tpid=$!
"$WAITLOG" t2 '^line [0-9]+$' 6 10000 || fail "tail -f did not follow"
kill "$tpid"
ctl tail crashy:3 2>err
grep -q "agent 'crashy' has no instance 3" err || fail "tail of a missing instance: $(cat err)"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
