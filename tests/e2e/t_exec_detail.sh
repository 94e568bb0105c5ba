# An exit's detail names the step of the start that failed, the one its
# errno is of: with both a limit corrald cannot give and an env_file that
# fails to read, the child fails at the limit first (before it would
# exec), and the exit says so, not the env_file.  An env_file alone is
# named.
. "$(dirname "$0")/lib.sh"

over=$(( $(cat /proc/sys/fs/nr_open) + 1 ))
echo 'X=1' >"$T/app.env"
conf <<EOF2
[defaults]
healthy_after = 100ms
stdout = null
stderr = null

[agent:both]
command = $TW sleep
env_file = $T/app.env
limit_nofile = $over

[agent:env]
command = $TW sleep
env_file = $T/app.env
autostart = false
EOF2
start_corrald
wait_log 'agent both\.0: STARTING -> FATAL' 1 10
# The env file breaks: both fails at limit_nofile still; env at env_file.
rm "$T/app.env"
ctl start both env >/dev/null 2>&1
wait_log 'agent both\.0: STARTING -> FATAL' 2 10
wait_log 'agent env\.0: STARTING -> FATAL' 1 10
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
eperm=$(q "SELECT count(*) FROM events WHERE kind='exit' AND agent='both' AND errno=1 AND detail LIKE 'limit_nofile = $over: setrlimit: %'")
assert_eq "$eperm" 2 "exits of both naming limit_nofile with EPERM ($(q "SELECT errno || ' ' || detail FROM events WHERE kind='exit' AND agent='both'"))"
assert_eq "$(q "SELECT detail FROM events WHERE kind='exit' AND agent='env'")" \
    "env_file $T/app.env: cannot open: No such file or directory" "env's exit detail"
echo "ok"
