# umask = MODE sets the mode mask of each run before it execs: a file the
# worker creates has the mode it implies; without the key the run keeps
# corrald's own mask.  A value that is no octal mode is refused at its
# line.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[defaults]
healthy_after = 100ms
stdout = null
stderr = null

[agent:strict]
command = /bin/sh -c 'echo x >$T/strict.out; exec sleep 600'
umask = 077

[agent:group]
command = /bin/sh -c 'echo x >$T/group.out; mkdir $T/group.dir; exec sleep 600'
umask = 0027

[agent:inherited]
command = /bin/sh -c 'echo x >$T/inherited.out; exec sleep 600'
EOF2
umask 002
start_corrald
wait_log 'STARTING -> RUNNING' 3
assert_eq "$(stat -c %a "$T/strict.out")" 600 "mode under umask 077"
assert_eq "$(stat -c %a "$T/group.out")" 640 "mode under umask 0027"
assert_eq "$(stat -c %a "$T/group.dir")" 750 "directory mode under umask 0027"
assert_eq "$(stat -c %a "$T/inherited.out")" 664 "mode under corrald's umask 002"
# corrald's own mask is untouched.
assert_eq "$(awk '/^Umask:/ { print $2 }' "/proc/$CPID/status")" 0002 "corrald's umask"
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

printf '[agent:a]\ncommand = /bin/true\numask = 0o22\n\n[agent:b]\ncommand = /bin/true\numask = 1000\n' >"$T/bad.ini"
"$CORRALD" --check "$T/bad.ini" >/dev/null 2>"$T/err"
assert_eq "$?" 78 "--check of bad umasks"
assert_eq "$(cat "$T/err")" "$T/bad.ini:3: umask: must be an octal mode from 000 to 777, such as 022
$T/bad.ini:7: umask: must be an octal mode from 000 to 777, such as 022
$T/bad.ini: 2 errors; nothing started" "bad umask messages"
echo ok
