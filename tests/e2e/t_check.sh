# corrald --check prints every error of a bad file as FILE:LINE: message and
# exits 78 starting nothing; on a good file it prints the resolved
# configuration, which checks again to the same text.
. "$(dirname "$0")/lib.sh"

cat >bad.ini <<'EOF2'
[corrald]
log_level = loud

[agent:a]
comand = /bin/true

[agent:b]
command = /bin/true
stop_timeout = 5
EOF2
"$CORRALD" --check bad.ini >out 2>err
rc=$?
cat err
assert_eq "$rc" 78 "exit status on a bad file"
assert_eq "$(grep -c '^bad.ini:[0-9]*: ' err)" 4 "error lines"
grep -qx "bad.ini:2: log_level: must be error, warn, info or debug" err || fail "log_level error"
grep -qx "bad.ini:5: unknown key 'comand' in \[agent:a\]; did you mean 'command'?" err || fail "did-you-mean"
grep -qx "bad.ini:4: \[agent:a\] has no 'command'" err || fail "missing command"
grep -qx "bad.ini:9: stop_timeout: duration needs a unit (ms, s, m, h or d)" err || fail "unit error"
[ ! -e corral-state.db ] || fail "--check created a state database"

"$CORRALD" --check "$TOP/etc/fleet.ini" >resolved 2>err || fail "etc/fleet.ini does not check: $(cat err)"
grep -q "configuration OK" err || fail "no 'configuration OK'"
"$CORRALD" --check resolved >resolved2 2>/dev/null || fail "resolved output does not check"
sed 1d resolved >a
sed 1d resolved2 >b
cmp a b || fail "resolved configuration does not round-trip"
# Every example fleet in etc/ checks.
for f in "$TOP"/etc/*.ini; do
	"$CORRALD" --check "$f" >/dev/null 2>err || fail "$f does not check: $(cat err)"
done

"$CORRALD" --check "$T/none.ini" 2>err
assert_eq "$?" 78 "exit status on a missing file"
grep -q "$T/none.ini: cannot open: No such file or directory" err || fail "missing file message"
