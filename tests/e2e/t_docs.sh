# The reference pages document what the code has, read from the source so
# that a key, command, option or source file added without its
# documentation fails here (t_man does the same for the manual pages):
# every key of supervisor/config.c's tables has a row in docs/CONFIG.md;
# every command and option of corralctl's usage text is in
# docs/CONTROL.md, docs/man/corralctl.1 and both completions; every source
# file of supervisor/ is in the README's table and in
# docs/ARCHITECTURE.md.
. "$(dirname "$0")/lib.sh"

keys() {
	sed -n "/^static const char \*$1\[/,/^};/p" "$TOP/supervisor/config.c" |
	    grep -o '"[^"]*"' | tr -d '"'
}
# The first cells of CONFIG.md's tables, one a line.
awk -F'|' '/^\| / { print $2 }' "$TOP/docs/CONFIG.md" >cells
bad=""
n=0
for k in $(keys agent_keys) $(keys cluster_keys) $(keys daemon_keys); do
	grep -q "\`$k\`" cells || bad="$bad $k"
	n=$((n + 1))
done
[ "$n" -ge 70 ] || fail "only $n keys read from config.c"
[ -z "$bad" ] || fail "keys without a row in docs/CONFIG.md:$bad"

usage=$(sed -n '/^usage(FILE \*f)/,/^}/p' "$TOP/supervisor/corralctl.c")
cmds=$(printf '%s\n' "$usage" | sed -n 's/^[[:space:]]*"  \([a-z][a-z-]*\) .*/\1/p' | sort -u)
printf '%s\n' "$cmds" | grep -qx status || fail "cannot read corralctl's usage"
opts=$(printf '%s\n' "$usage" | grep '^[[:space:]]*"  [a-z]' |
    grep -o '[[ ]--*[a-z][a-z-]*' | tr -d '[ ' | sort -u)
printf '%s\n' "$opts" | grep -qx -- --state || fail "cannot read corralctl's options"
bad=""
for c in $cmds; do
	grep -q "^| \`$c[ \`]" "$TOP/docs/CONTROL.md" || bad="$bad $c (CONTROL.md);"
	grep -q "^\.It Cm $c\( \|$\)" "$TOP/docs/man/corralctl.1" || bad="$bad $c (corralctl.1);"
	grep -q "^	local cmds=.*\<$c\>\|^	    .*\<$c\>" "$TOP/etc/completion/corralctl.bash" ||
	    bad="$bad $c (corralctl.bash);"
	grep -q "^			'$c:\|^			\"$c:" "$TOP/etc/completion/_corralctl" ||
	    bad="$bad $c (_corralctl);"
done
for o in $opts; do
	grep -q -- "$o" "$TOP/docs/CONTROL.md" || bad="$bad $o (CONTROL.md);"
	grep -q -- "Fl ${o#-}\( \|$\)" "$TOP/docs/man/corralctl.1" || bad="$bad $o (corralctl.1);"
	grep -q -- "$o" "$TOP/etc/completion/corralctl.bash" || bad="$bad $o (corralctl.bash);"
	grep -q -- "[')*]$o=\?\[" "$TOP/etc/completion/_corralctl" || bad="$bad $o (_corralctl);"
done
[ -z "$bad" ] || fail "corralctl's usage, not documented:$bad"
echo "corralctl: $(echo $cmds | wc -w) commands, $(echo $opts | wc -w) options"

bad=""
n=0
for f in "$TOP"/supervisor/*.c "$TOP"/supervisor/dashboard; do
	b=$(basename "$f")
	[ -d "$f" ] && b="$b/"
	grep -q "^| \`supervisor/$b\`\|^| \`supervisor/[^|]*, \`$b\`" "$TOP/README.md" ||
	    bad="$bad $b (README);"
	grep -qwF "${b%/}" "$TOP/docs/ARCHITECTURE.md" || bad="$bad $b (ARCHITECTURE.md);"
	n=$((n + 1))
done
[ "$n" -ge 30 ] || fail "only $n source files found"
[ -z "$bad" ] || fail "source files not described:$bad"
echo "$n source files of supervisor/ in README.md and ARCHITECTURE.md"
