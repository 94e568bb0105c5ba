# A worker that floods 200 MB of output has it rotated by log_max_bytes into
# log_backups files, the loop keeps serving others, and corrald's memory does
# not grow with the flood.
# e2e: alone (tests/run.sh): it times something, loads the machine or builds in the tree.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:flood]
command = $TW flood 209715200
restart = on-failure
log_max_bytes = 8M
log_backups = 3

; Line by line, as most programs write: every chunk ends with a newline.
[agent:lines]
command = sh -c 'i=0; while [ \$i -lt 400 ]; do i=\$((i+1)); echo "line \$i ........................................................................................"; done'
restart = never
log_max_bytes = 10K
log_backups = 2

[agent:steady]
command = $TW sleep
healthy_after = 100ms
EOF2
start_corrald
wait_log 'agent steady.0: STARTING -> RUNNING'
rss_before=$(sed -n 's/^VmRSS:\s*\([0-9]*\).*/\1/p' "/proc/$CPID/status")
wait_log 'agent flood.0: STARTING -> EXITED' 1 120
wait_log 'agent lines.0: STARTING -> EXITED' 1 20
rss_after=$(sed -n 's/^VmRSS:\s*\([0-9]*\).*/\1/p' "/proc/$CPID/status")
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
echo "corrald RSS: ${rss_before} kB before, ${rss_after} kB after 200 MB"
[ $((rss_after - rss_before)) -lt 16384 ] ||
    fail "corrald grew by $((rss_after - rss_before)) kB during the flood"
ls -l "$T/log"
n=$(ls "$T"/log/flood.0.stdout.log* | wc -l)
assert_eq "$n" 4 "log files (current + 3 backups)"
for f in "$T"/log/flood.0.stdout.log*; do
	size=$(stat -c %s "$f")
	[ "$size" -le $((8 * 1048576)) ] || fail "$f is $size bytes, past log_max_bytes"
done
# The newest file ends with the flood's last line, whole.
last=$(tail -n 1 "$T/log/flood.0.stdout.log")
case "$last" in "flood line "*"..") ;; *) fail "last line cut: $last" ;; esac
# Rotation cuts at line ends: each file holds whole lines, and each file
# starts with the line after the last line of the next older one.
prev=
for f in log.3 log.2 log.1 log; do
	f="$T/log/flood.0.stdout.$f"
	[ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" = '\n' ] || fail "$f ends mid-line"
	first=$(head -n 1 "$f" | cut -d' ' -f3)
	[ -z "$prev" ] || assert_eq "$first" "$((prev + 1))" "first line of $f"
	prev=$(tail -n 1 "$f" | cut -d' ' -f3)
done

# Line-oriented output rotates too: 400 lines of ~100 bytes, 10K per file.
for f in "$T"/log/lines.0.stdout.log*; do
	size=$(stat -c %s "$f")
	[ "$size" -le $((10 * 1024)) ] || fail "$f is $size bytes, past log_max_bytes"
done
assert_eq "$(ls "$T"/log/lines.0.stdout.log* | wc -l)" 3 "line log files (current + 2 backups)"
assert_eq "$(tail -n 1 "$T/log/lines.0.stdout.log" | cut -d' ' -f2)" 400 "last line"
