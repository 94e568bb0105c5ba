# A reload that takes `after` away releases what waited for it: b waits in
# WAITING for a (never READY=1); a reload that drops b's after starts b at
# once, and one that removes the agent c waited for (and c's after with
# it) starts c.  A reload that adds an after to a WAITING-free agent only
# gates its next start.
. "$(dirname "$0")/lib.sh"

write_conf() {
	conf <<EOF2
[defaults]
healthy_after = 100ms
stop_timeout = 3s
stdout = null
stderr = null

[agent:a]
command = $TW sleep
ready = notify

$1

[agent:b]
command = $TW sleep
$2

[agent:c]
command = $TW sleep
$3
EOF2
}
write_conf '[agent:gone]
command = '"$TW"' sleep
ready = notify' 'after = a' 'after = gone'
start_corrald
wait_log 'agent b\.0: STOPPED -> WAITING: waiting for a\.0' 1 10
wait_log 'agent c\.0: STOPPED -> WAITING: waiting for gone\.0' 1 10

# b loses its after, c loses the agent it came after.
write_conf '' '' ''
ctl reload >out 2>&1 || fail "reload: $(cat out)"
wait_log 'agent b\.0: WAITING -> STARTING' 1 5
wait_log 'agent c\.0: WAITING -> STARTING' 1 5
wait_log 'agent b\.0: STARTING -> RUNNING' 1 5
wait_log 'agent c\.0: STARTING -> RUNNING' 1 5
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND agent IN ('b','c')")" 2 "spawns of b and c"
echo "ok"
