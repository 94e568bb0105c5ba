# redirect_stderr = true: a worker's stderr goes where its stdout goes, one
# pipe for both: what it writes to either is in NAME.N.stdout.log, in the
# order it wrote it, and no stderr log is made.  The agent's own stderr key
# overrides a redirect from [defaults]; both in one section are refused.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[defaults]
healthy_after = 100ms
redirect_stderr = true

[agent:both]
command = /bin/sh -c 'echo out1; echo err1 >&2; echo out2; echo err2 >&2; echo end; exec sleep 600'

[agent:apart]
command = /bin/sh -c 'echo out; echo err >&2; exec sleep 600'
stderr = file
EOF2
start_corrald
wait_log 'STARTING -> RUNNING' 2
"$WAITLOG" "$T/log/both.0.stdout.log" '^end$' 1 5000 || fail "no output from both.0"
assert_eq "$(cat "$T/log/both.0.stdout.log")" "out1
err1
out2
err2
end" "stdout and stderr in one file, in order"
[ -e "$T/log/both.0.stderr.log" ] && fail "a stderr log was made for both.0"
pid=$(ctl status --json both | json_get 'j["workers"][0]["pid"]')
assert_eq "$(readlink "/proc/$pid/fd/2")" "$(readlink "/proc/$pid/fd/1")" "stderr and stdout of both.0"
"$WAITLOG" "$T/log/apart.0.stderr.log" '^err$' 1 5000 || fail "apart.0's stderr not in its own file"
assert_eq "$(cat "$T/log/apart.0.stdout.log")" "out" "apart.0's stdout"
ctl tail --stderr both >"$T/out" 2>&1 && fail "tail --stderr of a redirected worker succeeded"
grep -q "goes with its stdout (redirect_stderr = true)" "$T/out" || fail "tail --stderr: $(cat "$T/out")"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

printf '[agent:a]\ncommand = /bin/true\nredirect_stderr = true\nstderr = null\n' >"$T/bad.ini"
"$CORRALD" --check "$T/bad.ini" >/dev/null 2>"$T/err"
assert_eq "$?" 78 "--check of redirect_stderr with stderr"
assert_eq "$(head -n 1 "$T/err")" "$T/bad.ini:3: redirect_stderr = true sends stderr where stdout goes, but 'stderr = null' (line 4) says otherwise: keep one" "conflict message"
echo ok
