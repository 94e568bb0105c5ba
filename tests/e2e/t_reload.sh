# Reload applies an edited fleet file: touching one agent of 50 restarts that
# one and leaves the 49 others' pids alone; added agents start, removed ones
# stop, changed ones restart, a numprocs change adds instances, a change of
# policy alone restarts nothing, an operator's stop holds; a bad file changes
# nothing and says why.  Both 'corralctl reload' and SIGHUP.
. "$(dirname "$0")/lib.sh"

fleet() { # EXTRA: the 50-agent fleet, then EXTRA (sed script) applied
	{
		printf '[defaults]\nhealthy_after = 100ms\nstdout = null\nstderr = null\n'
		i=1
		while [ $i -le 50 ]; do
			printf '\n[agent:a%02d]\ncommand = %s sleep\n' $i "$TW"
			i=$((i + 1))
		done
	} | sed "${1:-}" | conf
}
pids() { ctl status --json | json_get '" ".join("%s=%s" % (w["name"], w["pid"]) for w in j["workers"])' | tr ' ' '\n' | sort; }

fleet
start_corrald
wait_log 'STARTING -> RUNNING' 50
pids >before

# One agent of 50: a07's command changes.
fleet '/^\[agent:a07\]/{n;s/sleep/-d 1 sleep/}'
assert_eq "$(ctl reload)" "reloaded $T/corral.ini: 0 added, 0 removed, 1 changed, 49 unchanged" "reload reply"
wait_log 'agent a07.0: STARTING -> RUNNING' 2
pids >after
diff before after >d.txt
assert_eq "$(grep -c '^<' d.txt)" 1 "workers whose pid changed"
grep -q '^< a07.0=' d.txt || fail "the changed pid is not a07's: $(cat d.txt)"
assert_eq "$(q "SELECT class FROM events WHERE kind='exit' AND agent='a07'")" stopped "a07's exit"

# Stop a05 by hand, then: remove a50, add b01, change a10's env and a05's
# command, give a20 three instances, change a30's backoff (policy only).
ctl stop a05 >/dev/null
fleet '/^\[agent:a07\]/{n;s/sleep/-d 1 sleep/}
/^\[agent:a50\]/,+1d
/^\[agent:a10\]/a env = COLOR=blue
/^\[agent:a05\]/{n;s/sleep/-d 2 sleep/}
/^\[agent:a20\]/a numprocs = 3
/^\[agent:a30\]/a backoff_initial = 5s
/^\[agent:a01\]/i [agent:b01]\ncommand = '"$TW"' sleep\n'
pids >before
a50=$(grep '^a50.0=' before | cut -d= -f2)
kill -HUP "$CPID"
wait_log "reloaded $T/corral.ini: 3 added, 1 removed, 2 changed, 47 unchanged"
wait_log 'agent a10.0: STARTING -> RUNNING' 1
wait_log 'agent b01.0: STARTING -> RUNNING' 1
wait_log 'agent a20.[12]: STARTING -> RUNNING' 2
pids_gone 5 "$a50" || fail "removed agent a50 still runs"
pids >after
diff before after >d.txt
cat d.txt
assert_eq "$(grep -c '^<' d.txt)" 2 "old lines: a50 and a10"
grep -q '^< a10.0=' d.txt || fail "a10 not restarted"
grep -q '^< a50.0=' d.txt || fail "a50 not removed"
grep -qx 'a05.0=None' after || fail "a05 (stopped by the operator) was started"
grep -q '^> b01.0=' d.txt && grep -q '^> a20.2=' d.txt || fail "b01 or a20.2 missing"
grep -q '^< a30.0=' d.txt && fail "a30 (policy change only) was restarted"
pid10=$(ctl status --json a10 | json_get 'j["workers"][0]["pid"]')
tr '\0' '\n' <"/proc/$pid10/environ" | grep -qx 'COLOR=blue' || fail "a10 runs without its new env"
assert_eq "$(ctl status --json | json_get 'len(j["workers"])')" 52 "workers after reload"

# A bad file: nothing changes, every error is named.
pids >before
printf '\n[agent:bad]\ncomand = x\n' >>"$T/corral.ini"
ctl reload >out 2>err
assert_eq "$?" 1 "exit status of a bad reload"
cat out err
grep -q "corral.ini:[0-9]*: unknown key 'comand' in \[agent:bad\]; did you mean 'command'?" out || fail "error not shown"
grep -q "corral.ini: 2 errors; nothing changed" err || fail "summary: $(cat err)"
pids >after
cmp before after || fail "a bad file changed the fleet"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
