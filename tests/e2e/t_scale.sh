# corralctl scale AGENT N: 2 -> 5 starts three more instances (status shows
# five RUNNING, five processes), 5 -> 1 stops and removes the four highest
# (their processes gone, no stray left); a reexec keeps the scaled count
# and every pid; a reload goes back to the file's numprocs.  Bad counts
# and names are refused.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:s]
command = $TW sleep
numprocs = 2
healthy_after = 200ms
stop_timeout = 2s
stdout = null
stderr = null
EOF2
start_corrald
wait_log 'agent s\.[01]: STARTING -> RUNNING' 2 10

states() { ctl status --json | json_get "' '.join(w['name'] + '=' + w['state'] for w in j['workers'])"; }
pids() { ctl status --json | json_get "' '.join(str(w['pid']) for w in j['workers'] if w['pid'])"; }
# Live processes under corrald but its watcher: the workers, and nothing else.
kids() { descendants "$CPID" | while read -r p; do
	tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "tworker sleep" && echo "$p"; done | sort -n | tr '\n' ' '; }

ctl scale s 5 >out 2>&1 || fail "scale s 5: $(cat out)"
grep -q 's: 5 instances, was 2; the file says 2, and a reload goes back to it' out || fail "scale reply: $(cat out)"
assert_eq "$(states)" "s.0=RUNNING s.1=RUNNING s.2=RUNNING s.3=RUNNING s.4=RUNNING" "states after scale 5"
five=$(pids)
STRAYS=$five
for p in $five; do [ -d "/proc/$p" ] || fail "pid $p of a scaled instance does not exist"; done
assert_eq "$(kids)" "$(echo $five | tr ' ' '\n' | sort -n | tr '\n' ' ')" "processes after scale 5"

ctl scale s 1 >out 2>&1 || fail "scale s 1: $(cat out)"
assert_eq "$(states)" "s.0=RUNNING" "states after scale 1"
gone=$(echo $five | cut -d' ' -f2-)
pids_gone 5 $gone || fail "removed instances still run"
assert_eq "$(kids)" "$(pids) " "processes after scale 1"
wait_log 'agent s\.4: STOPPING -> STOPPED: removed by corralctl scale' 1 5

# A reexec keeps the scaled count, and the runs.
ctl scale s 3 >out 2>&1 || fail "scale s 3: $(cat out)"
before=$(pids)
ctl reexec >out 2>&1 || fail "reexec: $(cat out)"
wait_log 'reexec: agent s keeps its 3 instances of corralctl scale \(the file says 2\)' 1 10
for _ in $(seq 100); do ctl version >/dev/null 2>&1 && break; sleep 0.05; done
assert_eq "$(pids)" "$before" "pids across reexec"
assert_eq "$(states)" "s.0=RUNNING s.1=RUNNING s.2=RUNNING" "states after reexec"

# A reload reads the file: back to 2.
ctl reload >out 2>&1 || fail "reload: $(cat out)"
grep -q '1 removed' out || fail "reload did not remove the scaled instance: $(cat out)"
wait_log 'agent s\.2: STOPPING -> STOPPED: removed by reload' 1 5
assert_eq "$(states)" "s.0=RUNNING s.1=RUNNING" "states after reload"

# Refused: no such agent, 0, too many, an instance.
ctl scale nosuch 3 >out 2>&1 && fail "scale of no agent accepted"
grep -q "no agent 'nosuch'" out || fail "scale nosuch: $(cat out)"
ctl scale s 0 >out 2>&1 && fail "scale to 0 accepted"
grep -q "not a number of instances from 1 to 100000" out || fail "scale 0: $(cat out)"
ctl scale s 100001 >/dev/null 2>&1 && fail "scale to 100001 accepted"
ctl scale s:1 3 >/dev/null 2>&1 && fail "scale of an instance accepted"
STRAYS=$(pids)
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
pids_gone 5 $five $before || fail "workers left after shutdown"
