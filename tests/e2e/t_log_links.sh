# corrald writes a worker's output only to a regular file of one link:
# whoever may write in log_dir (an agent of another user, if the operator
# gave it that directory) cannot have corrald, perhaps root, append to a
# file of their choosing.  A symbolic link or a hard link planted at a
# log's path is refused and named in the log, never followed; a FIFO there
# is refused without blocking corrald's loop.  The worker runs on, its
# output lost; other workers' logs are written; once the link is gone, the
# worker's next run writes its log.  With log_backups = 0 a
# full log is emptied through corrald's own descriptor.
. "$(dirname "$0")/lib.sh"

mkdir "$T/log"
echo "not yours" >"$T/target"
echo "not yours either" >"$T/target2"
ln -s "$T/target" "$T/log/sym.0.stdout.log"
ln "$T/target2" "$T/log/hard.0.stdout.log"
mkfifo "$T/log/fifo.0.stdout.log"
conf <<EOF2
[defaults]
command = $TW count
healthy_after = 100ms

[agent:fifo]
[agent:sym]
[agent:hard]
[agent:plain]

[agent:trunc]
command = $TW flood 200000
restart = never
log_max_bytes = 16K
log_backups = 0
EOF2
start_corrald
wait_log "agent fifo.0: cannot open log $T/log/fifo.0.stdout.log: it is a FIFO, not a regular file" 1 5
wait_log "agent sym.0: cannot open log $T/log/sym.0.stdout.log: it is a symbolic link, which corrald does not follow" 1 5
wait_log "agent hard.0: cannot open log $T/log/hard.0.stdout.log: it has 2 hard links, so it is another file's too" 1 5
wait_log 'agent trunc.0: RUNNING -> EXITED|agent trunc.0: STARTING -> EXITED' 1 10
for a in fifo sym hard plain; do
	wait_log "agent $a.0: STARTING -> RUNNING" 1 5
done
# The loop goes on: status answers, the plain worker's log fills.
ctl status >/dev/null || fail "corrald does not answer"
"$WAITLOG" "$T/log/plain.0.stdout.log" '^100$' 1 5000 || fail "plain.0's log is not written"
# The link gone, the worker's next run writes its log.
mv "$T/log/sym.0.stdout.log" "$T/sym.link"
ctl restart sym:0 >/dev/null || fail "cannot restart sym:0"
"$WAITLOG" "$T/log/sym.0.stdout.log" '^100$' 1 5000 || fail "sym.0's next run writes no log"
[ -L "$T/log/sym.0.stdout.log" ] && fail "sym.0's log is a link"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

assert_eq "$(cat "$T/target")" "not yours" "the symbolic link's target"
assert_eq "$(cat "$T/target2")" "not yours either" "the hard link's other name"
[ -L "$T/sym.link" ] || fail "the symbolic link was replaced"
[ -p "$T/log/fifo.0.stdout.log" ] || fail "the FIFO was replaced"
size=$(stat -c %s "$T/log/trunc.0.stdout.log")
[ "$size" -gt 0 ] && [ "$size" -le 16384 ] || fail "trunc.0's log is $size bytes (limit 16K)"
[ -e "$T/log/trunc.0.stdout.log.1" ] && fail "log_backups = 0 made a backup"
# Each refusal is said once per run, not once per chunk of output.
assert_eq "$(grep -c 'agent sym.0: cannot open log' "$LOG")" 1 "lines about sym.0's log"
exit 0
