# The manual pages in docs/man render without a single mandoc warning, and
# document what the code accepts: every key of supervisor/config.c's
# agent_keys, cluster_keys and daemon_keys in corral.ini.5 (and no key the
# code refuses), every command of corralctl's usage text in corralctl.1,
# every option of corrald's usage text in corrald.8.  The lists are read
# from the source, so a key, command or option added without its
# documentation fails here.  corral.ini.5 lists its keys in alphabetical
# order.
. "$(dirname "$0")/lib.sh"

MAN="$TOP/docs/man"
command -v mandoc >/dev/null 2>&1 || fail "mandoc not found (make deps installs it)"

for p in corrald.8 corralctl.1 corral.ini.5; do
	[ -f "$MAN/$p" ] || fail "no $MAN/$p"
	mandoc -Tlint -Wwarning "$MAN/$p" >lint.out 2>&1
	if [ -s lint.out ]; then
		cat lint.out
		fail "mandoc -Tlint -Wwarning complains about $p"
	fi
done

# array NAME: the strings of config.c's 'static const char *NAME[...] = {'.
array() {
	sed -n "/^static const char \*$1\[/,/^};/p" "$TOP/supervisor/config.c" |
	    grep -o '"[^"]*"' | tr -d '"'
}

# items TITLE: the keys of the '.It Ic KEY' lines of corral.ini.5's
# subsection TITLE.
items() {
	awk -v t=".Ss $1" '$0 == t { on = 1; next } /^\.S[hs] / { on = 0 } on' \
	    "$MAN/corral.ini.5" | sed -n 's/^\.It Ic \([A-Za-z0-9_]*\).*/\1/p'
}

# same WHAT CODE DOC: every word of CODE is in DOC and the other way round.
same() {
	bad=""
	for w in $2; do
		printf '%s\n' "$3" | grep -qx "$w" ||
		    bad="$bad $w (in the code, not documented);"
	done
	for w in $3; do
		printf '%s\n' "$2" | grep -qx "$w" ||
		    bad="$bad $w (documented, not in the code);"
	done
	[ -z "$bad" ] || fail "$1:$bad"
}

akeys=$(array agent_keys)
ckeys=$(array cluster_keys)
dkeys=$(array daemon_keys)
printf '%s\n' "$akeys" | grep -qx command || fail "cannot read agent_keys in config.c"
printf '%s\n' "$ckeys" | grep -qx strategy || fail "cannot read cluster_keys in config.c"
printf '%s\n' "$dkeys" | grep -qx state_db || fail "cannot read daemon_keys in config.c"
same "corral.ini.5, Agent keys" "$akeys" "$(items 'Agent keys')"
same "corral.ini.5, Cluster keys" "$ckeys" "$(items 'Cluster keys')"
same "corral.ini.5, Daemon keys" "$dkeys" "$(items 'Daemon keys')"
# In byte order, as a reader looks them up; the limit_* keys share one
# entry, in the order of their kinds.
for s in 'Daemon keys' 'Agent keys' 'Cluster keys'; do
	got=$(items "$s" | sed 's/^limit_.*/limit_/' | uniq)
	want=$(printf '%s\n' "$got" | LC_ALL=C sort)
	[ "$got" = "$want" ] || fail "corral.ini.5, $s: not in alphabetical order: $(printf '%s\n' "$got" | tr '\n' ' ')"
done

cmds=$(sed -n '/^usage(FILE \*f)/,/^}/p' "$TOP/supervisor/corralctl.c" |
    sed -n 's/^[[:space:]]*"  \([a-z][a-z-]*\) .*/\1/p')
printf '%s\n' "$cmds" | grep -qx status || fail "cannot read corralctl's usage"
doc=$(awk '/^The commands are as follows:/ { on = 1 } on && /^\.El/ { exit } on' \
    "$MAN/corralctl.1" | sed -n 's/^\.It Cm \([a-z-]*\).*/\1/p')
same "corralctl.1, commands" "$cmds" "$doc"

opts=$(sed -n '/^usage(FILE \*f)/,/^}/p' "$TOP/supervisor/corrald.c" |
    sed -n 's/^[[:space:]]*"  -\([A-Za-z]\), --\([a-z-]*\).*/\1:\2/p')
printf '%s\n' "$opts" | grep -qx c:config || fail "cannot read corrald's usage"
for o in $opts; do
	grep -Eq "^\.It Fl ${o%%:*}( .*)? , Fl -${o#*:}( |$)" "$MAN/corrald.8" ||
	    fail "corrald.8 does not document -${o%%:*}, --${o#*:}"
done
