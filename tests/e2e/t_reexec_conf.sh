# corralctl reexec hands the new image the configuration corrald runs, not
# the fleet file on disk: edits not yet reloaded (an agent added, one
# removed, one's command changed; then the file made invalid) change
# nothing across a reexec: nothing starts, nothing stops, every pid stays,
# the changed agent runs its old command.  A reload afterwards applies the
# edit: the added agent starts, the removed one stops (exit class
# stopped), the changed one restarts with its new command.  A [corrald]
# path that a reload kept as it was stays so across a reexec too.
. "$(dirname "$0")/lib.sh"

fleet() { # the fleet, with CHANGE's command tail and the agents in $@
	{
		printf '[defaults]\nhealthy_after = 100ms\nstdout = null\nstderr = null\n'
		printf '\n[agent:keep]\ncommand = %s sleep\nnumprocs = 2\n' "$TW"
		printf '\n[agent:change]\ncommand = %s %s\n' "$TW" "$1"
		shift
		for a in "$@"; do
			printf '\n[agent:%s]\ncommand = %s sleep\n' "$a" "$TW"
		done
	} | conf
}
# The workers, one line each: name state pid restarts.
workers() {
	ctl status --json | json_get '"\n".join("%s %s %s %s" % (w["name"], w["state"], w["pid"], w["restarts"]) for w in j["workers"])'
}
pid_of() { ctl status --json "$1" | json_get 'j["workers"][0]["pid"]'; }
cmdline() { tr '\0' ' ' <"/proc/$1/cmdline"; }

# reexec_same ROUND: a reexec keeps every worker as it was.
reexec_same() {
	workers >"before.$1"
	out=$(ctl reexec) || fail "round $1: reexec refused: $out"
	assert_eq "$out" "re-executed: corrald pid $CPID, 4 workers kept running" "round $1: reexec reply"
	wait_log 're-executed: 4 workers kept running' "$1"
	workers >"after.$1"
	cat "after.$1"
	diff "before.$1" "after.$1" >/dev/null ||
	    fail "round $1: workers changed across the reexec: $(diff "before.$1" "after.$1")"
	kill -0 "$gone" 2>/dev/null || fail "round $1: gone.0 (pid $gone) was stopped"
	case "$(cmdline "$change")" in
	*" -d 1 sleep "*) fail "round $1: change.0 runs the command not yet reloaded" ;;
	*" sleep ") ;;
	*) fail "round $1: change.0 runs '$(cmdline "$change")'" ;;
	esac
}

fleet sleep gone
start_corrald
wait_log 'STARTING -> RUNNING' 4
gone=$(pid_of gone)
change=$(pid_of change)
t0=$(date +%s%3N)

# Round 1: a valid edit, not reloaded.
fleet '-d 1 sleep' added
reexec_same 1
grep -q 'agent added' "$LOG" && fail "the added agent was seen: $(grep 'agent added' "$LOG")"

# Round 2: the same edit, and the file broken besides: a reexec goes on.
printf '\n[agent:bad]\ncomand = x\n' >>"$T/corral.ini"
reexec_same 2

# The broken file does not reload either.
ctl reload >out 2>&1 && fail "a broken file reloaded"
t1=$(date +%s%3N)

# Repaired, the edit reloads as usual.
fleet '-d 1 sleep' added
assert_eq "$(ctl reload)" "reloaded $T/corral.ini: 1 added, 1 removed, 1 changed, 2 unchanged" "reload reply"
wait_log 'agent added.0: STARTING -> RUNNING'
wait_log 'agent change.0: STARTING -> RUNNING' 2
pids_gone 5 "$gone" || fail "removed agent gone.0 (pid $gone) still runs"
new=$(pid_of change)
[ "$new" != "$change" ] || fail "change.0 was not restarted"
case "$(cmdline "$new")" in
*" -d 1 sleep ") ;;
*) fail "change.0 runs '$(cmdline "$new")' after the reload" ;;
esac
workers

# A reload keeps the [corrald] paths corrald runs with; so does a reexec,
# whose state lock and sockets are those of these paths.
sed -i "s|^state_db = .*|state_db = $T/other.db|" "$T/corral.ini"
ctl reload >/dev/null || fail "reload with another state_db"
wait_log "reload: state_db changed from $DB to $T/other.db; it takes effect when corrald restarts"
out=$(ctl reexec) || fail "reexec after a reload of another state_db: $out"
wait_log "reexec: state_db changed from $DB to $T/other.db; it takes effect when corrald restarts"
wait_log 're-executed: 4 workers kept running' 3
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
[ -e "$T/other.db" ] && fail "the new image opened $T/other.db"

# Between the first reexec and the reload, no worker changed state.
assert_eq "$(q "SELECT count(*) FROM events WHERE kind IN ('spawn', 'exit', 'state')
    AND time_ms > $t0 AND time_ms < $t1")" 0 "events during the reexecs"
assert_eq "$(q "SELECT group_concat(state) FROM events WHERE kind='daemon'")" "start,reexec,reexec,reexec,stop" "daemon events"
assert_eq "$(q "SELECT group_concat(class) FROM events WHERE kind='exit' AND agent='gone'")" stopped "gone's exit"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND agent='change'")" 2 "change's runs"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND agent='added'")" 1 "added's runs"
