# pre_start and post_stop: pre_start runs before each start of an
# instance, in its directory and with its environment, and the worker
# starts after it (it sees pre_start's marker); a pre_start that fails
# (an exit code, a hang past hook_timeout) keeps the worker from starting:
# a start failure that backs off with a clear message, and heals once
# pre_start succeeds.  post_stop runs after every exit of a run with the
# exit's class, code and signal in its environment.  Hooks' output goes
# into corrald's log, and corrald answers while a hook hangs.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/wd"
conf <<EOF2
[defaults]
healthy_after = 100ms
stdout = null
stderr = null
backoff_initial = 200ms
backoff_max = 400ms
failure_threshold = 100

[agent:h]
directory = $T/wd
env = FOO=bar
pre_start = sh -c 'echo "pre \$CORRAL_AGENT \$CORRAL_INSTANCE \$FOO \$(pwd)" >>pre.marker; echo hello from pre_start'
command = sh -c 'cp pre.marker seen.%(instance); exec $TW sleep'
post_stop = sh -c 'echo "post \$CORRAL_AGENT.\$CORRAL_INSTANCE class=\$CORRAL_EXIT_CLASS code=\$CORRAL_EXIT_CODE signal=\$CORRAL_EXIT_SIGNAL" >>$T/post.log'

[agent:crash]
command = $TW signal 9
restart = never
post_stop = sh -c 'echo "post crash class=\$CORRAL_EXIT_CLASS code=\$CORRAL_EXIT_CODE signal=\$CORRAL_EXIT_SIGNAL" >>$T/post.log'

[agent:gate]
pre_start = sh -c 'test -e $T/open || { echo "gate is closed"; exit 4; }'
command = $TW sleep

[agent:hung]
pre_start = sleep 30
hook_timeout = 500ms
command = $TW sleep
EOF2
start_corrald
wait_log 'agent h\.0: pre_start: hello from pre_start'
wait_log 'agent h\.0: STARTING -> RUNNING'
assert_eq "$(cat "$T/wd/seen.0")" "pre h 0 bar $T/wd" "what the worker saw of pre_start"

# post_stop: a signal's exit.
wait_log 'agent crash\.0: [A-Z]* -> EXITED'
"$WAITLOG" "$T/post.log" '^post crash class=killed code= signal=KILL$' 1 10000 ||
    fail "post_stop of crash: $(cat "$T/post.log" 2>/dev/null)"

# A failing pre_start: no start, a start failure, backoff; it heals.
wait_log 'agent gate\.0: pre_start: gate is closed' 2
wait_log 'agent gate\.0: pre_start exited with code 4'
wait_log 'agent gate\.0: STARTING -> BACKOFF: pre_start failed: exited with code 4; restart in [0-9.]*s \(failure 1\)'
wait_log 'agent gate\.0: STARTING -> BACKOFF: pre_start failed: exited with code 4; restart in [0-9.]*s \(failure 2\)'
st=$(ctl status --json gate)
assert_eq "$(echo "$st" | json_get 'j["workers"][0]["pid"]')" None "gate's pid while pre_start fails"
[ "$(echo "$st" | json_get 'j["workers"][0]["start_failures"]')" -ge 2 ] || fail "start failures not counted: $st"
: >"$T/open"
wait_log 'agent gate\.0: STARTING -> RUNNING'
assert_eq "$(ctl status --json gate | json_get 'j["workers"][0]["failures"]')" 0 "gate's failures once healthy"

# A hung pre_start is killed after hook_timeout; corrald answers meanwhile.
# (status exits 3: hung is not RUNNING; what matters is that it answers)
ctl status --json hung | grep -q '"name":"hung.0"' ||
    fail "corrald does not answer while a hook runs"
wait_log 'agent hung\.0: pre_start still running after 500ms; killing it'
wait_log 'agent hung\.0: STARTING -> BACKOFF: pre_start failed: killed after hook_timeout 500ms'

# post_stop after an operator's stop, with a clean code.
ctl stop h >/dev/null || fail "stop h"
"$WAITLOG" "$T/post.log" '^post h.0 class=stopped code=0 signal=$' 1 10000 ||
    fail "post_stop of h: $(cat "$T/post.log")"
ctl stop hung >/dev/null
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND agent='hung'")" 0 "spawns of hung"
[ "$(q "SELECT count(*) FROM events WHERE kind='spawn' AND agent='gate'")" = 1 ] || fail "gate ran before its pre_start succeeded"
echo "ok"
