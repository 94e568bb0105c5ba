# corrald tells how each start follows the last corrald on its state
# database, logs it and records it in the daemon event's detail: the first
# start of a database, one after a clean stop (SIGTERM), one after an
# unplanned death (SIGKILL; also after a reexec), one after a reboot of the
# host (another boot id in meta); it keeps this boot's id in meta.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:w]
command = $TW sleep
healthy_after = 100ms
EOF2

start_corrald
wait_log "starting on a new state database $DB"
wait_log 'agent w.0: STARTING -> RUNNING'
assert_eq "$(q "SELECT value FROM meta WHERE key = 'boot_id'")" \
    "$(cat /proc/sys/kernel/random/boot_id)" "the boot id kept in meta"
pid1=$CPID
stop_corrald

start_corrald
wait_log "starting after corrald pid $pid1 stopped"
wait_log 'agent w.0: STARTING -> RUNNING'
pid2=$CPID
kill -KILL "$CPID"
wait "$CPID" 2>/dev/null
CPID=

start_corrald
wait_log "starting after an unplanned death of corrald pid $pid2 \(same boot\)"
wait_log 'agent w.0: STARTING -> RUNNING'
pid3=$CPID
stop_corrald

"$SQLQ" -w "$DB" "UPDATE meta SET value = 'another-boot' WHERE key = 'boot_id'" ||
    fail "cannot store another boot id"
start_corrald
wait_log "starting after a reboot of the host \(corrald pid $pid3 ran in an earlier boot\)"
wait_log 'agent w.0: STARTING -> RUNNING'
# A reexec is no new start; a death after it is an unplanned one.
ctl reexec >/dev/null || fail "reexec"
wait_log 're-executed: 1 workers kept running'
pid4=$CPID
kill -KILL "$CPID"
wait "$CPID" 2>/dev/null
CPID=

start_corrald
wait_log "starting after an unplanned death of corrald pid $pid4 \(same boot\)"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
assert_eq "$(q "SELECT group_concat(state || ' ' || coalesce(substr(detail, 1,
    instr(detail, ':') - 1), '-'), ', ') FROM (SELECT state, detail FROM events
    WHERE kind = 'daemon' ORDER BY id)")" \
    "start first, stop -, start clean, start unplanned, stop -, start reboot, reexec -, start unplanned, stop -" \
    "the daemon events"
assert_eq "$(q "SELECT detail FROM events WHERE kind = 'daemon' AND state = 'start' ORDER BY id LIMIT 1 OFFSET 2")" \
    "unplanned: corrald pid $pid2 died without stopping (same boot)" "the unplanned start's detail"
