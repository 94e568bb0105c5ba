# corrald --check prints a file that loads back to the same configuration:
# for every good fixture and every example fleet, the printed file, checked
# again from another directory under the same name, prints the very same
# bytes, and names no %(here) (it would be the other directory's). The same
# from a current directory with '%', blanks and UTF-8 in its name (the
# default paths are made from it), and for a fleet file in such a
# directory using %(here) everywhere. An expansion that no fleet file can
# hold (a line break, a ';' after a blank, a blank at the end of a path) is
# refused with its key and line, not printed as something else.
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
exit 0
