# env_file is read at each start: a worker sees corrald's environment, its
# env files over it (later files over earlier, [defaults]' first), and its
# env key over those; an optional file that is missing is no error; an
# edit of a file takes effect at the next start (a restart), not before;
# a file made bad makes the next start fail as fatal, with FILE:LINE in the
# log and in the exit event; %(ENV_NAME) expands from corrald's own
# environment.  --check refuses a bad file or a missing one that is not
# optional, naming the fleet file's line and the env file's.
. "$(dirname "$0")/lib.sh"

printf 'EF_A=common\nEF_COMMON=yes\n' >"$T/common.env"
cat >"$T/app.env" <<'EOF'
# the app's settings
EF_A=app

export EF_B="two words"
EF_C = 'single $quoted'
EF_D=overridden by env
EF_E=a\ b  
EOF
conf <<EOF
[defaults]
env_file = common.env

[agent:a]
command = /bin/sh -c 'env | grep ^EF_ | sort; echo end; exec sleep 600'
healthy_after = 100ms
backoff_initial = 100ms
stderr = null
env_file = app.env -$T/missing.env
env = EF_D=from-env, EF_HOME=%(ENV_EF_HOME)
EOF

export EF_A=corrald EF_ONLY=corrald EF_HOME=/home/of/corrald
start_corrald
wait_log 'agent a.0: STARTING -> RUNNING'
"$WAITLOG" "$T/log/a.0.stdout.log" '^end$' 1 5000 || fail "no output from a.0"
want='EF_A=app
EF_B=two words
EF_C=single $quoted
EF_COMMON=yes
EF_D=from-env
EF_E=a b
EF_HOME=/home/of/corrald
EF_ONLY=corrald
end'
assert_eq "$(cat "$T/log/a.0.stdout.log")" "$want" "the environment of a.0"

# An edit waits for the next start.
printf 'EF_A=edited\n' >"$T/app.env"
sleep 0.2
grep -q EF_A=edited "$T/log/a.0.stdout.log" && fail "an edit reached a running worker"
ctl restart a >/dev/null || fail "restart refused"
"$WAITLOG" "$T/log/a.0.stdout.log" '^end$' 2 5000 || fail "a.0 did not start again"
grep -qx 'EF_A=edited' "$T/log/a.0.stdout.log" || fail "the edit did not take effect at the restart: $(cat "$T/log/a.0.stdout.log")"

# A bad line: the next start fails as fatal, naming the file and line.
printf 'EF_A=ok\nthis is not a variable\n' >"$T/app.env"
ctl restart a >/dev/null 2>&1
wait_log 'agent a.0: STARTING -> FATAL'
grep -q "agent a.0 (pid [0-9]*): cannot start: env_file $T/app.env:2: expected KEY=VALUE" "$LOG" ||
    fail "the bad env file is not named in the log: $(grep 'cannot start' "$LOG")"
# A missing one likewise.
rm "$T/app.env"
ctl start a >/dev/null 2>&1
wait_log 'agent a.0: STARTING -> FATAL' 2
grep -q "cannot start: env_file $T/app.env: cannot open: No such file or directory" "$LOG" ||
    fail "the missing env file is not named in the log"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
assert_eq "$(q "SELECT class || '|' || detail FROM events WHERE kind='exit' AND agent='a' AND class='fatal' ORDER BY id LIMIT 1")" \
    "fatal|env_file $T/app.env:2: expected KEY=VALUE (KEY: letters, digits, '_', not starting with a digit)" \
    "the exit event of the failed start names the line, never quotes it (it may hold a secret)"
grep -q 'this is not a variable' "$LOG" && fail "corrald's log quotes the env file's bad line"
[ "$(q "SELECT count(*) FROM events WHERE detail LIKE '%not a variable%'")" = 0 ] ||
    fail "the state database quotes the env file's bad line"

# --check: the same mistakes are config errors, at the env_file line.
printf 'EF_A=ok\nEF_BAD\n' >"$T/app.env"
"$CORRALD" --check "$T/corral.ini" >/dev/null 2>"$T/err"
assert_eq "$?" 78 "--check of a bad env file"
grep -Fqx "$T/corral.ini:15: env_file: $T/app.env:2: expected KEY=VALUE (KEY: letters, digits, '_', not starting with a digit), found 'EF_BAD'" "$T/err" ||
    fail "--check does not name both files: $(cat "$T/err")"
rm "$T/app.env"
"$CORRALD" --check "$T/corral.ini" >/dev/null 2>"$T/err"
assert_eq "$?" 78 "--check of a missing env file"
grep -Fq "$T/corral.ini:15: env_file: $T/app.env: cannot open: No such file or directory" "$T/err" ||
    fail "--check does not name the missing file: $(cat "$T/err")"
# An unset %(ENV_NAME) is an error naming it, not an empty string.
printf 'EF_A=ok\n' >"$T/app.env"
(unset EF_HOME; "$CORRALD" --check "$T/corral.ini") >/dev/null 2>"$T/err"
assert_eq "$?" 78 "--check with EF_HOME unset"
grep -Fqx "$T/corral.ini:16: env: %(ENV_EF_HOME): EF_HOME is not set in corrald's environment" "$T/err" ||
    fail "unset variable not named: $(cat "$T/err")"
echo "ok"
