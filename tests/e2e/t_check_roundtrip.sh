# corrald --check prints a file that loads back to the same configuration:
# for every good fixture and every example fleet, the printed file, checked
# again from another directory under the same name, prints the very same
# bytes, and names no %(here) (it would be the other directory's). The same
# from a current directory with '%', blanks and UTF-8 in its name (the
# default paths are made from it), and for a fleet file in such a
# directory using %(here) everywhere. An expansion that no fleet file can
# hold (a line break, a ';' after a blank, a blank at the end of a path) is
# refused with its key and line, not printed as something else.  A fleet
# that sets every key of config.c's tables prints each of them back.
. "$(dirname "$0")/lib.sh"

# roundtrip FILE [DIR]: --check NAME from DIR (default: a fresh one), where
# NAME links to FILE (%(here) is still FILE's directory), then --check of
# the output under the same NAME from another directory: the same bytes,
# the first line, which names NAME, included.
roundtrip() {
	f=$1
	name=$(basename "$f")
	from=${2:-$T/one}
	rm -rf "$T/rt" "$T/one"
	mkdir "$T/rt" "$T/one"
	ln -sf "$f" "$from/$name"
	(cd "$from" && "$CORRALD" --check "$name") >"$T/rt/$name" 2>"$T/rt/err1" ||
	    fail "$f does not check: $(cat "$T/rt/err1")"
	rm -f "$from/$name"
	(cd "$T/rt" && "$CORRALD" --check "$name") >"$T/rt/out2" 2>"$T/rt/err2" ||
	    fail "what --check printed of $f does not check: $(cat "$T/rt/err2")"
	cmp "$T/rt/$name" "$T/rt/out2" ||
	    fail "$f: printed, checked again and printed, it differs: $(diff "$T/rt/$name" "$T/rt/out2" | head -n 20)"
	! grep -En '(^|[^%])(%%)*%\(here\)' "$T/rt/out2" ||
	    fail "$f: the printed file still says %(here)"
}

n=0
for f in "$TOP"/tests/unit/configs/good/*.ini "$TOP"/etc/*.ini; do
	roundtrip "$f"
	n=$((n + 1))
done
[ "$n" -ge 20 ] || fail "only $n fixtures found"

# The default paths come from the current directory: '%' in it is '%%'.
odd="$T/dir 100% é"
mkdir "$odd"
for f in "$TOP"/tests/unit/configs/good/*.ini "$TOP"/etc/*.ini; do
	roundtrip "$f" "$odd"
done
grep -qx "run_dir = $T/dir 100%% é" "$T/rt/out2" || fail "run_dir not written with %%: $(grep run_dir "$T/rt/out2")"

# %(here) with ';' after a blank, '%' and '#': commands, env and hooks are
# quoted; a literal path cannot hold it and is refused.
semi="$T/a ;b 100% #c"
mkdir "$semi"
cat >"$semi/fleet.ini" <<'EOF'
[cluster:c]
on_state_change = %(here)/hook --dir %(here)

[agent:a]
command = %(here)/bin/a --at %(here)
cluster = c
env = AT=%(here)
thread_id = t-%(agent)
EOF
roundtrip "$semi/fleet.ini" "$T"
grep -Fqx 'command = "'"$T"'/a "\;"b 100%% #c/bin/a" --at "'"$T"'/a "\;"b 100%% #c"' "$T/rt/out2" ||
    fail "command not quoted: $(grep '^command' "$T/rt/out2")"
printf '[corrald]\nlog_dir = %%(here)/log\n' >>"$semi/fleet.ini"
(cd "$T" && "$CORRALD" --check "$semi/fleet.ini") >/dev/null 2>err
assert_eq "$?" 78 "exit status of a path with ' ;'"
grep -Fqx "$semi/fleet.ini:10: log_dir: '$semi/log' holds a ';' after a blank, which the file would take for a comment: corrald --check could not write it back" err ||
    fail "no message for log_dir: $(cat err)"

# A line break in %(here): nothing can hold it, even quoted.
nl="$T/line
break"
mkdir "$nl"
printf '[agent:a]\ncommand = %%(here)/bin/a\n' >"$nl/fleet.ini"
(cd "$T" && "$CORRALD" --check "$nl/fleet.ini") >/dev/null 2>err
assert_eq "$?" 78 "exit status of a %(here) with a line break"
grep -Fq ":2: command: '$T/line\\nbreak/bin/a' holds a line break: corrald --check could not write it back" err ||
    fail "no message for the line break: $(cat err)"

# A current directory that ends with a blank: run_dir, from it, is refused.
end="$T/end "
mkdir "$end"
(cd "$end" && "$CORRALD" --check "$TOP/tests/unit/configs/good/minimal.ini") >/dev/null 2>err
assert_eq "$?" 78 "exit status of a run_dir ending with a blank"
grep -Fq "minimal.ini:1: run_dir: '$T/end ' starts or ends with a blank, which the file would drop: corrald --check could not write it back" err ||
    fail "no message for run_dir: $(cat err)"

# Every key of config.c's key tables is printed back when the file sets
# it, and the printed file loads to the same: a fleet that sets them all
# (issue 14's with an [include], %(ENV_NAME) and an env_file), with and
# without the http_token that --check hides.
keys() {
	sed -n "/^static const char \*$1\[/,/^};/p" "$TOP/supervisor/config.c" |
	    grep -o '"[^"]*"' | tr -d '"'
}
every="$T/every"
mkdir -p "$every/conf.d"
printf 'A=1\n' >"$every/app.env"
printf '[agent:extra]\ncommand = /bin/true\n' >"$every/conf.d/extra.ini"
cat >"$every/fleet.ini" <<EOF2
[corrald]
state_db = %(here)/state.db
checkpoint_db = postgresql://db.example/corral
run_dir = %(here)/run
log_dir = %(here)/log
log_level = warn
control_socket = %(here)/run/ctl.sock
http_listen = 127.0.0.1:0
http_token = 0123456789abcdef0123
circuit_breaker_enabled = false
cgroup = auto
event_retention = 7d
event_retention_count = 5000
node_name = node-a
lease_ttl = 30s
log_file = %(here)/log/corrald.log
log_file_max_bytes = 1M
log_file_backups = 2

[include]
files = conf.d/*.ini

[cluster:c]
failure_threshold = 4
failure_window = 30s
recovery_timeout = 20s
recovery_timeout_max = 2m
half_open_max_calls = 2
strategy = rest_for_one
min_healthy = 1
on_state_change = /bin/true

[defaults]
umask = 027

[agent:db]
command = /bin/sleep %(ENV_CORRAL_EVERY)
ready = notify
redirect_stderr = true
autostart = true

[agent:lite]
command = /bin/true
autostart = false

[agent:web]
command = /bin/sleep 100
cluster = c
numprocs = 2
directory = /tmp
env = A=1
restart = on-failure
success_exit_codes = 0
transient_exit_codes = 75
fatal_exit_codes = 64
backoff_initial = 1s
backoff_multiplier = 3
backoff_max = 1m
backoff_jitter = 0.1
max_retries = 4
healthy_after = 2s
stop_signal = INT
stop_timeout = 5s
stdout = file
stderr = null
log_max_bytes = 1M
log_backups = 1
priority = 5
autostart = true
user = $(id -un)
failure_threshold = 3
recovery_timeout = 10s
recovery_timeout_max = 1m
half_open_max_calls = 1
fallback = lite
watchdog = 30s
thread_id = web-%(instance)
checkpoint_interval = 1m
poison_threshold = 2
max_rollback = 1
storage_retry = 10s
limit_nofile = 1024:4096
limit_core = 0
limit_nproc = 100
limit_as = 1G
limit_cpu = 2m
limit_fsize = 10M
limit_stack = 8M
limit_memlock = 64K
max_memory = 64M
after = db
max_age = 6h
cron_restart = 0 3 * * mon-fri
pre_start = /bin/true %(agent)
post_stop = /bin/true
hook_timeout = 5s
umask = 077
env_file = app.env -missing.env
memory_max = 128M
cpu_quota = 12.5%
EOF2
export CORRAL_EVERY=100
(cd "$T" && "$CORRALD" --check "$every/fleet.ini") >every.out 2>err ||
    fail "the fleet of every key does not check: $(cat err)"
missing=""
for k in $(keys agent_keys) $(keys cluster_keys) $(keys daemon_keys); do
	grep -q "^$k = " every.out || missing="$missing $k"
done
[ -z "$missing" ] || fail "keys set but not printed by --check:$missing"
grep -qx 'command = /bin/sleep 100' every.out || fail "%(ENV_CORRAL_EVERY) not expanded: $(grep -n '^command' every.out)"
grep -qx '\[agent:extra\]' every.out || fail "the included agent is not printed"
! grep -q '^\[include\]\|^files' every.out || fail "--check printed [include]"
grep -qx 'http_token = <hidden>' every.out || fail "http_token not hidden"
grep -v '^http_token' "$every/fleet.ini" >"$every/fleet-nt.ini"
roundtrip "$every/fleet-nt.ini" "$T"
exit 0
