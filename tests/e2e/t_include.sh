# [include] files = conf.d/*.ini: the agents of the matched files start as
# if written in the fleet file; a reload reads the patterns again, so an
# agent in a file added since starts; a reexec keeps the configuration
# corrald runs on (the files as they were read: an included file added
# and not yet reloaded starts nothing); --check prints the merged fleet,
# which checks back to the same bytes; the same agent in two files is an
# error naming both files and lines.
. "$(dirname "$0")/lib.sh"

mkdir "$T/conf.d"
conf <<EOF
[include]
files = conf.d/*.ini

[defaults]
healthy_after = 100ms
stdout = null
stderr = null

[agent:main]
command = $TW sleep
EOF
printf '[agent:one]\ncommand = %s sleep\nnumprocs = 2\n' "$TW" >"$T/conf.d/10-one.ini"
printf '[agent:two]\ncommand = %s sleep\n' "$TW" >"$T/conf.d/20-two.ini"
printf 'not an included file\n' >"$T/conf.d/README"

start_corrald
wait_log 'STARTING -> RUNNING' 4
assert_eq "$(ctl status --json | json_get '" ".join(w["name"] for w in j["workers"])')" \
    "main.0 one.0 one.1 two.0" "workers from the included files"

# Added, not reloaded: a reexec runs what was read, and starts nothing.
printf '[agent:three]\ncommand = %s sleep\n' "$TW" >"$T/conf.d/30-three.ini"
out=$(ctl reexec) || fail "reexec refused: $out"
wait_log 're-executed: 4 workers kept running'
assert_eq "$(ctl status --json | json_get 'len(j["workers"])')" 4 "workers after the reexec"
grep -q "agent three" "$LOG" && fail "three was seen before a reload: $(grep 'agent three' "$LOG")"

# A reload reads the patterns again.
assert_eq "$(ctl reload)" "reloaded $T/corral.ini: 1 added, 0 removed, 0 changed, 4 unchanged" "reload reply"
wait_log 'agent three.0: STARTING -> RUNNING'

# A file removed: its agent stops at the next reload (SIGHUP).
rm "$T/conf.d/20-two.ini"
kill -HUP "$CPID"
wait_log "reloaded $T/corral.ini: 0 added, 1 removed, 0 changed, 4 unchanged"

# --check shows the merged fleet, and it checks back to the same bytes.
"$CORRALD" --check "$T/corral.ini" >"$T/merged.ini" 2>"$T/err" || fail "--check: $(cat "$T/err")"
for a in main one three; do
	grep -qx "\[agent:$a\]" "$T/merged.ini" || fail "agent $a not in the merged fleet"
done
grep -q '^\[include\]' "$T/merged.ini" && fail "--check printed the [include]"
mkdir "$T/elsewhere"
cp "$T/merged.ini" "$T/elsewhere/corral.ini"
(cd "$T/elsewhere" && "$CORRALD" --check corral.ini) >"$T/again.ini" 2>"$T/err" ||
    fail "the merged fleet does not check: $(cat "$T/err")"
tail -n +2 "$T/merged.ini" >"$T/a"
tail -n +2 "$T/again.ini" >"$T/b"
cmp -s "$T/a" "$T/b" || fail "merged fleet, checked again, differs: $(diff "$T/a" "$T/b" | head)"

# The same agent twice, across files: both files and lines are named.
printf '\n[agent:one]\ncommand = %s sleep\n' "$TW" >"$T/conf.d/40-dup.ini"
ctl reload >"$T/out" 2>&1 && fail "a duplicate agent reloaded"
"$CORRALD" --check "$T/corral.ini" >/dev/null 2>"$T/err"
assert_eq "$?" 78 "--check of a duplicate across files"
grep -Fqx "$T/conf.d/40-dup.ini:2: duplicate section [agent:one] (first at $T/conf.d/10-one.ini:1)" "$T/err" ||
    fail "duplicate not named with both files: $(cat "$T/err")"
rm "$T/conf.d/40-dup.ini"

# A name that is no pattern must exist; a pattern may match nothing.
printf '[include]\nfiles = conf.d/*.none nothere.ini\n[agent:x]\ncommand = /bin/true\n' >"$T/plain.ini"
"$CORRALD" --check "$T/plain.ini" >/dev/null 2>"$T/err"
assert_eq "$?" 78 "--check of a missing included file"
assert_eq "$(cat "$T/err")" "$T/plain.ini:2: files: $T/nothere.ini: cannot open: No such file or directory
$T/plain.ini: 1 error; nothing started" "missing included file"

# Errors in an included file name it; an include of an included file is
# read too, and one that comes back is refused.
mkdir "$T/conf.d/sub"
printf '[include]\nfiles = sub/*.ini\n' >>"$T/conf.d/10-one.ini"
printf '[agent:deep]\ncommand = %s sleep\nnumprocs = lots\n[include]\nfiles = ../10-one.ini\n' "$TW" >"$T/conf.d/sub/deep.ini"
"$CORRALD" --check "$T/corral.ini" >/dev/null 2>"$T/err"
assert_eq "$(cat "$T/err")" "$T/conf.d/sub/deep.ini:3: numprocs: not a whole number
$T/conf.d/sub/deep.ini:5: files: $T/conf.d/sub/../10-one.ini is included already (by $T/corral.ini:8)
$T/corral.ini: 2 errors; nothing started" "errors in a nested include"

stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
assert_eq "$(q "SELECT group_concat(class) FROM events WHERE kind='exit' AND agent='two'")" stopped "two's exit"
echo "ok"
