# A worker that the state of a reexec names but the new image's
# configuration does not (state from an older corrald, or a configuration
# that could not be handed over) is stopped properly: its stop signal to
# its process group, SIGKILL after its stop_timeout when it ignores that,
# reaped, its exit recorded as class stopped, the log saying why; a state
# line without the "s" tag (an older image's) gets the default TERM.  The
# old image is played by a Python process that forks the workers, writes
# the state as an image would, then execs corrald under its own pid.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:a]
command = $TW sleep
healthy_after = 100ms
stdout = null
EOF2

: >"$LOG"
"$PY" - "$CORRALD" "$T/corral.ini" "$TW" "$T" >>"$LOG" 2>&1 <<'PY' &
import os, subprocess, sys, time
corrald, conf, tw, t = sys.argv[1:5]
def worker(*args):
    p = subprocess.Popen([tw] + list(args), start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    return p.pid
# ignore-term: its stop signal (TERM) is not honoured, KILL after 1 s.
deaf = worker("ignore-term")
# sleep: exits on TERM; its line has no "s" tag, as an older image writes.
old = worker("sleep")
with open(t + "/pids", "w") as f:
    f.write("%d %d\n" % (deaf, old))
now = int(time.monotonic() * 1000)
wall = int(time.time() * 1000)
def line(agent, pid, tail):
    # agent instance state(RUNNING) pid start_wall start_mono deadline chain
    # healthy healthy_due stop_requested held restart_pending queued
    # failures runs start_failures runtime_failures last_class last_code
    # last_signal outfd0 outfd1 execfd, then 9 exit counts.
    return ("w %s 0 2 %d %d %d 0 0 1 0 0 0 0 0 0 1 0 0 0 0 0 -1 -1 -1"
            " 0 0 0 0 0 0 0 0 0 b 0 0 0 0 n 0 0 0 0 0 - -1 0 - -"
            " r 0 0 0 0 = = = =%s\n" % (agent, pid, wall, now, tail))
state = ("corrald-reexec 1\nlock -1\nlisten -1\nreply -1\nnotify -1\n"
         + line("deaf", deaf, " s 15 1000 2 2") + line("old", old, ""))
fd = os.memfd_create("state", 0)
os.write(fd, state.encode())
os.lseek(fd, 0, os.SEEK_SET)
os.set_inheritable(fd, True)
os.execv(corrald, [corrald, "-c", conf, "--resume-fd", str(fd)])
PY
CPID=$!
wait_log 'agent a.0: STARTING -> RUNNING'
# The strays being stopped are not counted as started.
grep -q '1 of 1 workers started; ready' "$LOG" || fail "$(grep 'workers started' "$LOG")"
read -r deaf old <"$T/pids"
STRAYS="$deaf $old"
grep -q "reexec: the previous image handed over no configuration" "$LOG" ||
    fail "no word of the configuration not handed over"
grep -q "reexec: agent deaf.0 (pid $deaf) is not in the configuration; stopping it: TERM to its process group, KILL after 1s$" "$LOG" ||
    fail "deaf.0's stop not logged"
grep -q "reexec: agent old.0 (pid $old) is not in the configuration; stopping it: TERM to its process group, KILL after 10s (defaults: the old image did not say)" "$LOG" ||
    fail "old.0's stop not logged"
wait_log "agent deaf.0 \(pid $deaf\): still running 1s after TERM; sending KILL"
wait_log 'agent deaf.0: STOPPING -> STOPPED: not in the configuration'
wait_log 'agent old.0: STOPPING -> STOPPED: not in the configuration'
pids_gone 5 "$deaf" "$old" || fail "a stray still runs"
assert_eq "$(ctl status --json | json_get '" ".join(w["name"] for w in j["workers"])')" "a.0" "workers"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
assert_eq "$(q "SELECT agent || ':' || class || ':' || coalesce(signal, code) FROM events
    WHERE kind='exit' AND agent != 'a' ORDER BY agent")" "deaf:stopped:9
old:stopped:0" "the strays' exits"
