# after = AGENT: an instance of b is not spawned before every instance of a
# is up, and with ready = notify up means READY=1, not healthy_after: b
# waits in WAITING (status says for which instance) while a's instances
# are RUNNING without READY, and is spawned only once the last one says
# READY=1.  At shutdown b stops before a.  --check refuses a cycle of
# after, naming it, an unknown agent, and an autostart agent after one
# that never starts.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[defaults]
healthy_after = 200ms
stop_timeout = 3s

[agent:a]
command = $TW ready-usr1
numprocs = 2
ready = notify

[agent:b]
command = $TW sleep
after = a
EOF2
start_corrald
wait_log 'agent a\.[01]: STARTING -> RUNNING' 2 10
wait_log 'agent b\.0: STOPPED -> WAITING: waiting for a\.0 \(STARTING\) and others' 1 10
ctl status b | grep -q '^  waiting for a\.0 (RUNNING, no READY=1 yet) and others$' ||
    fail "status does not say what b.0 waits for: $(ctl status b)"
st=$(ctl status --json b | json_get "j['workers'][0]['state'] + '|' + j['workers'][0]['waiting_for']")
assert_eq "$st" "WAITING|waiting for a.0 (RUNNING, no READY=1 yet) and others" "b.0 in status --json"

pid_of() { ctl status --json "$1" | json_get "j['workers'][0]['pid']"; }
# The worker waits for SIGUSR1 in sigwait: until it is there, the signal
# would kill it.
usr1_ready() {
	for _ in $(seq 100); do
		grep -q sigtimedwait "/proc/$1/wchan" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "pid $1 never waited for SIGUSR1"
}
a0=$(pid_of a:0)
a1=$(pid_of a:1)
usr1_ready "$a0"
usr1_ready "$a1"
kill -USR1 "$a0"
wait_log "agent a\.0 \(pid $a0\): ready" 1 5
# One instance of a up is not enough.
ctl status b | grep -q '^  waiting for a\.1 (RUNNING, no READY=1 yet)$' ||
    fail "b.0 should wait for a.1 now: $(ctl status b)"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND agent='b'")" 0 "spawns of b before a.1 is ready"
t_ready=$(date +%s%3N)
kill -USR1 "$a1"
wait_log "agent a\.1 \(pid $a1\): ready" 1 5
wait_log 'agent b\.0: WAITING -> STARTING' 1 5
b0=$(pid_of b)
[ -d "/proc/$b0" ] || fail "b.0 has no process"
STRAYS="$a0 $a1 $b0"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND agent='b' AND time_ms < $t_ready")" 0 "b spawned before a.1 said READY=1"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND agent='b'")" 1 "spawns of b"
# Shutdown: b's process gone before a gets its stop signal.
first_a=$(q "SELECT min(id) FROM events WHERE kind='state' AND agent='a' AND state='STOPPING'")
b_exit=$(q "SELECT id FROM events WHERE kind='exit' AND agent='b'")
[ -n "$first_a" ] && [ -n "$b_exit" ] && [ "$b_exit" -lt "$first_a" ] ||
    fail "a was stopped (event $first_a) before b was gone (event $b_exit)"

# --check prints after and ready, and what it prints checks again the same.
"$CORRALD" --check corral.ini >resolved 2>err || fail "corral.ini does not check: $(cat err)"
grep -qx 'after = a' resolved || fail "--check does not print after"
grep -qx 'ready = notify' resolved || fail "--check does not print ready = notify"
"$CORRALD" --check resolved >resolved2 2>/dev/null || fail "resolved output does not check"
sed 1d resolved >r1
sed 1d resolved2 >r2
cmp -s r1 r2 || fail "after and ready do not round-trip"

# --check: a cycle, named with its path, at the line of its first agent's after.
cat >cyc.ini <<'EOF2'
[agent:x]
command = /bin/true
after = z

[agent:y]
command = /bin/true
after = x

[agent:z]
command = /bin/true
after = y
EOF2
"$CORRALD" --check cyc.ini >out 2>err
assert_eq "$?" 78 "exit status of --check on a cycle"
grep -qx 'cyc.ini:3: after cycle: x -> z -> y -> x' err || fail "cycle message: $(cat err)"
assert_eq "$(grep -c 'after cycle' err)" 1 "cycles reported"

cat >bad.ini <<'EOF2'
[agent:db]
command = /bin/true
autostart = false

[agent:web]
command = /bin/true
after = dbb

[agent:api]
command = /bin/true
after = db api
ready = ready
EOF2
"$CORRALD" --check bad.ini >out 2>err
assert_eq "$?" 78 "exit status of --check on bad after"
grep -qx "bad.ini:7: after: unknown agent 'dbb'; did you mean 'db'?" err || fail "unknown agent: $(cat err)"
grep -qx "bad.ini:11: after: an agent cannot come after itself" err || fail "self: $(cat err)"
grep -q "^bad.ini:11: after: agent db has autostart = false: api would wait" err || fail "autostart: $(cat err)"
grep -qx "bad.ini:12: ready: must be running or notify" err || fail "ready: $(cat err)"
exit 0
