# reload --dry-run shows what a reload would change and changes nothing:
# agents added, removed and changed (with the keys), the instances that
# would restart, numprocs changes, clusters; the same pids afterwards.
# Then a real reload does what it said: the same counts, and exactly the
# instances it named restart.  A broken file shows its errors as reload
# does, and fails.
. "$(dirname "$0")/lib.sh"

fleet() {
	sed "${1:-}" <<EOF2 | conf
[defaults]
healthy_after = 100ms
stdout = null
stderr = null

[cluster:c]
strategy = one_for_one

[agent:keep]
command = $TW sleep

[agent:cmd]
command = $TW sleep
numprocs = 2

[agent:policy]
command = $TW sleep

[agent:grow]
command = $TW sleep

[agent:gone]
command = $TW sleep
EOF2
}
pids() { ctl status --json | json_get '" ".join("%s=%s" % (w["name"], w["pid"]) for w in j["workers"])' | tr ' ' '\n' | sort; }

fleet
start_corrald
wait_log 'STARTING -> RUNNING' 6
pids >before

# Nothing edited: nothing to say.
out=$(ctl reload --dry-run) || fail "dry run of an unchanged file: $out"
assert_eq "$out" "dry run of a reload of $T/corral.ini: 0 added, 0 removed, 0 changed, 6 unchanged; nothing was changed" "dry run of an unchanged file"

fleet '/^\[agent:cmd\]/{n;s/sleep/-d 1 sleep/}
/^\[agent:policy\]/a backoff_initial = 5s
/^\[agent:grow\]/a numprocs = 3
/^\[agent:gone\]/,+1d
/^\[cluster:c\]/,+1s/one_for_one/one_for_all/'
printf '\n[agent:new]\ncommand = %s sleep\n\n[cluster:d]\n' "$TW" >>"$T/corral.ini"
ctl reload --dry-run >out 2>err || fail "dry run: $(cat out err)"
cat out
grep -qx "cluster c: changed: strategy" out || fail "cluster c's change not shown"
grep -qx "cluster d: added" out || fail "cluster d not shown"
grep -qx "agent cmd: changed: command; restarts cmd.0, cmd.1" out || fail "cmd's change not shown"
grep -qx "agent policy: changed: backoff_initial (its running instances keep running and take the new values)" out || fail "policy's change not shown"
grep -qx "agent grow: changed: numprocs (its running instances keep running and take the new values)" out || fail "grow's change not shown"
grep -qx "agent grow: numprocs 1 -> 3: adds grow.1, grow.2" out || fail "grow's instances not shown"
grep -qx "agent new: added: starts new.0" out || fail "new not shown"
grep -qx "agent gone: removed: stops and removes gone.0" out || fail "gone not shown"
grep -q "^agent keep" out && fail "an unchanged agent is shown"
summary="3 added, 1 removed, 2 changed, 3 unchanged"
assert_eq "$(cat err)" "" "dry run's stderr"
grep -qx "+ .*" out && fail "reply tags leaked"
[ "$(tail -n 1 out)" = "dry run of a reload of $T/corral.ini: $summary; nothing was changed" ] || fail "summary: $(tail -n 1 out)"
pids >after
cmp before after || fail "a dry run changed the fleet: $(diff before after)"
grep -q "reloaded" "$LOG" && fail "a dry run reloaded"

# The real reload does what the dry run said.
assert_eq "$(ctl reload)" "reloaded $T/corral.ini: $summary" "the reload's summary"
wait_log 'agent cmd\.1: STARTING -> RUNNING' 2
wait_log 'agent new\.0: STARTING -> RUNNING'
pids >after
diff before after | sed -n 's/^< \([^=]*\)=.*/\1/p' >changed
assert_eq "$(tr '\n' ' ' <changed)" "cmd.0 cmd.1 gone.0 " "instances whose pid changed"

# A broken file: its errors, as reload shows them, and a failure.
printf '\n[agent:bad]\ncomand = x\n' >>"$T/corral.ini"
ctl reload --dry-run >out 2>err
assert_eq "$?" 1 "exit status of a dry run of a bad file"
grep -q "corral.ini:[0-9]*: unknown key 'comand' in \[agent:bad\]; did you mean 'command'?" out || fail "error not shown: $(cat out)"
grep -q "corral.ini: 2 errors; a reload would change nothing" err || fail "summary: $(cat err)"
ctl reload --dry-run --now >/dev/null 2>err && fail "reload took an unknown option"
grep -q "usage: reload \[--dry-run\]" err || fail "usage: $(cat err)"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
echo "ok"
