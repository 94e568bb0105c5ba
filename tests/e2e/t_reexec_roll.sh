# A reexec while a rolling restart is under way is refused, naming it
# (the new image would not go on with the roll: the instances not yet
# restarted would keep their old runs, and corralctl would lose the
# roll's news); the roll goes on to its end, and a reexec after it works.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[defaults]
stop_timeout = 2s
stdout = null
stderr = null

[agent:r]
command = $TW -d 700 ready
numprocs = 3
ready = notify
healthy_after = 10s
EOF2
start_corrald
wait_log 'agent r\.[012] \(pid [0-9]*\): ready' 3 10
rpids() { ctl status --json r | json_get "' '.join(str(w['pid']) for w in j['workers'])"; }
old=$(rpids)
STRAYS=$old
ctl restart --rolling r >roll.out 2>&1 &
rp=$!
wait_log 'rolling restart of r: restarting r\.0' 1 5
ctl reexec >out 2>&1 && fail "reexec during a rolling restart: $(cat out)"
grep -q 'a rolling restart of r is under way; try again when it is over' out ||
    fail "reexec's refusal: $(cat out)"
wait "$rp" || fail "restart --rolling failed: $(cat roll.out)"
grep -q '3 of 3 instances restarted one at a time' roll.out || fail "roll: $(cat roll.out)"
new=$(rpids)
for p in $old; do
	case " $new " in *" $p "*) fail "pid $p of before the roll still runs: $new" ;; esac
done
ctl reexec >out 2>&1 || fail "reexec after the roll: $(cat out)"
wait_log 're-executing' 1 5
wait_log 'corrald .* \(pid [0-9]*\): 1 agents' 2 10
assert_eq "$(rpids)" "$new" "pids across the reexec"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
echo "ok"
