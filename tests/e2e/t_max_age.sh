# max_age recycles a run: a run older than max_age is stopped as an
# operator's stop is (stop_signal, then KILL after stop_timeout) and
# started again at once, with a new pid; the exit is classed stopped with
# "recycled" in its detail, it is no failure, and the breaker (one failure
# would open it) does not move.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[defaults]
healthy_after = 100ms
backoff_jitter = 0
failure_threshold = 1
stdout = null
stderr = null

[agent:w]
command = $TW sleep
max_age = 2s

[agent:stubborn]
command = $TW ignore-term
max_age = 1500ms
stop_timeout = 300ms

[agent:young]
command = $TW sleep
EOF2
start_corrald
wait_log 'agent w\.0: STARTING -> RUNNING'
pid=$(ctl status --json w | json_get 'j["workers"][0]["pid"]')
young=$(ctl status --json young | json_get 'j["workers"][0]["pid"]')

wait_log 'agent w\.0 \(pid [0-9]*\): recycled \(max_age 2s\): TERM, KILL after 10s' 1 10
wait_log 'agent w\.0: STOPPING -> BACKOFF: recycled: max_age 2s; restart now' 1 10
wait_log 'agent w\.0: STARTING -> RUNNING' 2 10
pids_gone 5 "$pid" || fail "the recycled run $pid still lives"
st=$(ctl status --json w)
new=$(echo "$st" | json_get 'j["workers"][0]["pid"]')
[ "$new" != "$pid" ] && [ "$new" != None ] || fail "no new run after the recycle: $new"
assert_eq "$(echo "$st" | json_get 'j["workers"][0]["failures"]')" 0 "failures after a recycle"
assert_eq "$(echo "$st" | json_get 'j["workers"][0]["start_failures"] + j["workers"][0]["runtime_failures"]')" 0 "failures counted"
assert_eq "$(echo "$st" | json_get 'j["workers"][0]["breaker"]')" CLOSED "breaker after a recycle"
assert_eq "$(echo "$st" | json_get 'j["workers"][0]["last_exit"]["class"]')" stopped "class of a recycled run"

# A run that ignores its stop signal is killed after stop_timeout, and
# comes back all the same.
wait_log 'agent stubborn\.0 \(pid [0-9]*\): still running 300ms after TERM; sending KILL' 1 10
wait_log 'agent stubborn\.0: STOPPING -> BACKOFF: recycled: max_age 1500ms; restart now' 1 10
wait_log 'agent stubborn\.0: STARTING -> RUNNING' 2 10

# Without max_age, a run is left alone.
assert_eq "$(ctl status --json young | json_get 'j["workers"][0]["pid"]')" "$young" "young's pid"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
n=$(q "SELECT count(*) FROM events WHERE kind='exit' AND agent='w' AND class='stopped' AND detail='recycled: max_age 2s' AND run_ms >= 1900")
[ "$n" -ge 1 ] || fail "no recycled exit of w at least 2 s old"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='exit' AND agent='w' AND detail='recycled: max_age 2s' AND run_ms < 1900")" 0 "w's runs recycled before max_age"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='breaker'")" 0 "breaker events"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='exit' AND agent='young'")" 1 "young's exits (the shutdown's)"
echo "ok"
