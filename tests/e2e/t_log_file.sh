# [corrald] log_file: corrald's own messages go to that file (relative to
# the current directory, its directory created, mode 0640), not to
# stderr, where only the line saying where they go is written, and the
# workers' inherited output stays; a SIGHUP after the file was moved away
# (logrotate) reopens a new one at the path; a reload that names another
# file switches to it, and that file is rotated past log_file_max_bytes,
# keeping log_file_backups; a symbolic link at the path is refused, named
# on stderr, and the messages stay on stderr.
. "$(dirname "$0")/lib.sh"

OWN="$T/own/corrald.log"
write_conf() {
	conf <<EOF2
circuit_breaker_enabled = false
log_file = own/$1
$2

[agent:w]
command = $TW sleep
healthy_after = 100ms

[agent:talk]
command = sh -c 'echo said-by-the-worker; exec sleep 1000'
stdout = inherit
healthy_after = 100ms
$3
EOF2
}
write_conf corrald.log "" ""
start_corrald
wait_log "log_file: corrald's messages go to $OWN from now on"
"$WAITLOG" "$OWN" 'agent w\.0: STARTING -> RUNNING' 1 10000 ||
    fail "no worker line in $OWN"
"$WAITLOG" "$OWN" 'agent talk\.0: STARTING -> RUNNING' 1 10000 ||
    fail "no worker line in $OWN"
wait_log '^\[talk\.0\] said-by-the-worker$'
grep -q 'STARTING -> RUNNING' "$LOG" && fail "corrald's messages are on stderr too"
grep -q 'said-by-the-worker' "$OWN" && fail "a worker's inherited output went to log_file"
assert_eq "$(stat -c %a "$OWN")" 640 "log_file's mode"

# logrotate: move it away, SIGHUP; the next lines go to a new file.
mv "$OWN" "$OWN.old"
kill -HUP "$CPID"
"$WAITLOG" "$OWN" 'reloaded .*corral.ini: 0 added' 1 10000 ||
    fail "no new $OWN after SIGHUP"
grep -q 'received SIGHUP' "$OWN.old" || fail "the moved file lost the last lines before the reopen"
[ -L "$OWN" ] && fail "$OWN is a link"

# A reload that names another file, rotated small; a crash loop fills it.
write_conf other.log "log_file_max_bytes = 2K
log_file_backups = 1" "[agent:crash]
command = $TW exit 1
backoff_initial = 20ms
backoff_max = 20ms
backoff_jitter = 0"
out=$(ctl reload) || fail "reload: $out"
"$WAITLOG" "$OWN" "log_file: corrald's messages go to $T/own/other.log from now on" 1 5000 ||
    fail "the old file does not say where the lines went"
"$WAITLOG" "$T/own/other.log.1" 'agent crash\.0' 1 15000 ||
    fail "other.log was not rotated"
"$WAITLOG" "$T/own/other.log" 'agent crash\.0' 1 5000 ||
    fail "nothing in other.log after its rotation"
ctl stop crash >/dev/null || fail "cannot stop crash"
for f in "$T/own/other.log" "$T/own/other.log.1"; do
	size=$(stat -c %s "$f")
	[ "$size" -le 2048 ] || fail "$f is $size bytes (limit 2K)"
	tail -c 1 "$f" | od -c | grep -q '\\n' || fail "$f does not end with a whole line"
done
[ -e "$T/own/other.log.2" ] && fail "log_file_backups = 1 kept two"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
grep -q 'exiting' "$T/own/other.log" || fail "the last line is not in the file"

# A full disk under the file: said once on stderr, where the lines go
# meanwhile; corrald supervises on; once it can be written, the file says
# how many lines went to stderr.
write_conf corrald.log "" ""
rm -f "$OWN"
: >"$LOG"
ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" \
LD_PRELOAD="$BUILD/helpers/libfault.so" FAULT_PATH="$T/own/" \
FAULT_ERRNO=ENOSPC FAULT_OPS=write FAULT_SWITCH="$FAULT_SW" \
    "$CORRALD" -c "$T/corral.ini" >>"$LOG" 2>&1 &
CPID=$!
"$WAITLOG" "$OWN" 'agent w\.0: STARTING -> RUNNING' 1 10000 ||
    fail "no worker line in $OWN"
touch "$FAULT_SW"
ctl restart w >/dev/null || fail "cannot restart w on a full disk"
wait_log "log_file: cannot write $OWN: No space left on device; corrald's messages go to stderr until it can be written again \\(said once\\)"
wait_log 'agent w\.0: STARTING -> RUNNING'
ctl restart w >/dev/null || fail "cannot restart w on a full disk"
wait_log 'agent w\.0: STARTING -> RUNNING' 2
assert_eq "$(grep -c 'log_file: cannot write' "$LOG")" 1 "lines about the full disk"
rm "$FAULT_SW"
ctl restart w >/dev/null || fail "cannot restart w"
"$WAITLOG" "$OWN" "log_file: $OWN written again; [0-9]+ lines went to stderr meanwhile" 1 10000 ||
    fail "the file does not say it is written again"
"$WAITLOG" "$OWN" 'agent w\.0: STARTING -> RUNNING' 2 10000 ||
    fail "lines do not go to the file again"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

# A symbolic link at the path: refused, said on stderr, lines stay there.
echo "not yours" >"$T/target"
rm -f "$OWN"
ln -s "$T/target" "$OWN"
write_conf corrald.log "" ""
start_corrald
wait_log "log_file: cannot open $OWN: it is a symbolic link, which corrald does not follow; corrald's messages go to stderr until it is reopened \\(SIGHUP\\)"
wait_log 'agent w\.0: STARTING -> RUNNING'
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
assert_eq "$(cat "$T/target")" "not yours" "the symbolic link's target"
[ -L "$OWN" ] || fail "the symbolic link was replaced"
exit 0
