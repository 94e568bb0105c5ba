# corralctl tail of several workers (no target, an agent with several
# instances, a cluster, several targets) prints the last N lines of each,
# prefixed [NAME.N], then with -f follows them all, whole lines only,
# stdout and stderr ([NAME.N:err]) with --all-streams, workers a reload
# adds (following all) or removes; one worker named by its agent keeps its
# plain output.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[defaults]
stdout = file
stderr = file
healthy_after = 100ms

[cluster:team]

[agent:a]
command = sh -c 'i=0; while :; do i=\$((i+1)); echo "a\$INSTANCE line \$i"; printf "a\$INSTANCE half "; sleep 0.02; echo "\$i"; echo "a\$INSTANCE err \$i" >&2; sleep 0.03; done'
numprocs = 2
env = INSTANCE=%(instance)
cluster = team

[agent:b]
command = sh -c 'i=0; while :; do i=\$((i+1)); echo "b line \$i"; sleep 0.05; done'
cluster = team

[agent:quiet]
command = $TW sleep
stdout = null
stderr = null
EOF2
start_corrald
wait_log 'agent b\.0: STARTING -> RUNNING'
wait_log 'agent a\.1: STARTING -> RUNNING'
"$WAITLOG" "$T/log/b.0.stdout.log" '^b line 3$' 1 10000 || fail "b wrote nothing"
"$WAITLOG" "$T/log/a.1.stdout.log" '^a1 line 3$' 1 10000 || fail "a.1 wrote nothing"

# No target: every worker's last 2 lines, prefixed, the null one passed over.
ctl tail -n 2 >all || fail "tail of all: $(cat all)"
cat all
assert_eq "$(wc -l <all)" 6 "tail -n 2 of three workers with files"
assert_eq "$(grep -c '^\[a\.0\] a0 ' all)" 2 "a.0's lines"
assert_eq "$(grep -c '^\[a\.1\] a1 ' all)" 2 "a.1's lines"
assert_eq "$(grep -c '^\[b\.0\] b line [0-9]*$' all)" 2 "b.0's lines"
# An agent of several instances, and a cluster: the same.
ctl tail -n 1 a >agent || fail "tail of an agent of 2: $(cat agent)"
assert_eq "$(cut -c1-6 agent | tr '\n' ' ')" "[a.0]  [a.1]  " "tail of an agent of 2"
ctl tail -n 1 team >cl || fail "tail of a cluster"
assert_eq "$(cut -d' ' -f1 cl | tr '\n' ' ')" "[a.0] [a.1] [b.0] " "tail of a cluster"
ctl tail -n 1 b a:1 >two || fail "tail of two targets"
assert_eq "$(cut -d' ' -f1 two | tr '\n' ' ')" "[a.1] [b.0] " "tail of two targets (fleet order)"
# One worker named by its agent: plain, as before.
ctl tail -n 1 b >one || fail "tail of b"
grep -qx 'b line [0-9]*' one || fail "tail of one worker is prefixed: $(cat one)"
ctl tail -n 1 --all-streams a:0 >both || fail "tail --all-streams"
grep -q '^\[a\.0\] a0 ' both && grep -q '^\[a\.0:err\] a0 err [0-9]*$' both ||
    fail "tail --all-streams: $(cat both)"
out=$(ctl tail quiet 2>&1) && fail "tail of a null stream: $out"
out=$(ctl tail --stderr --all-streams 2>&1) && fail "--stderr with --all-streams: $out"

# Follow them all: whole lines of each worker (a line written in two
# pieces arrives whole), each prefixed.
ctl tail -f -n 0 >fol 2>&1 &
fpid=$!
"$WAITLOG" fol '^\[b\.0\] b line [0-9]+$' 3 10000 || fail "tail -f: no b lines: $(cat fol)"
"$WAITLOG" fol '^\[a\.1\] a1 half [0-9]+$' 3 10000 || fail "tail -f: no whole a.1 lines: $(cat fol)"
"$WAITLOG" fol '^\[a\.0\] a0 line [0-9]+$' 3 10000 || fail "tail -f: no a.0 lines"
kill "$fpid"
wait "$fpid" 2>/dev/null
# (The first line of each may be the end of one begun before tail started.)
bad=$(awk '$1 in seen { print } { seen[$1] = 1 }' fol |
    grep -v -E '^\[(a\.[01]\] a[01] (line|half) [0-9]+|b\.0\] b line [0-9]+)$')
[ -z "$bad" ] || fail "tail -f lines not whole or not prefixed: $bad"
grep -q 'err' fol && fail "tail -f without --all-streams shows stderr"

ctl tail -f -n 0 --all-streams a:1 >fe 2>&1 &
fpid=$!
"$WAITLOG" fe '^\[a\.1:err\] a1 err [0-9]+$' 2 10000 || fail "tail -f --all-streams: $(cat fe)"
"$WAITLOG" fe '^\[a\.1\] a1 half [0-9]+$' 2 10000 || fail "tail -f --all-streams, stdout"
kill "$fpid"
wait "$fpid" 2>/dev/null
grep -q '^\[a\.0' fe && fail "tail -f a:1 shows a.0"

# A reload: a follower of every worker picks up one it adds; a follower
# of named workers loses one it removes and goes on with the others, and
# ends when none is left.
ctl tail -f -n 0 >fa 2>&1 &
fapid=$!
ctl tail -f -n 0 b a:1 >fb 2>&1 &
fbpid=$!
ctl tail -f -n 0 team >fc 2>&1 &
fcpid=$!
"$WAITLOG" fa '^\[b\.0\] ' 1 10000 || fail "tail -f of all: nothing"
"$WAITLOG" fb '^\[b\.0\] ' 1 10000 || fail "tail -f b a:1: nothing"
"$WAITLOG" fc '^\[b\.0\] ' 1 10000 || fail "tail -f team: nothing"
sed -i -e 's/^\[agent:b\]$/[agent:c]/' -e 's/echo "b line/echo "c line/' "$T/corral.ini"
ctl reload >/dev/null || fail "reload"
"$WAITLOG" fa '^\[c\.0\] c line [0-9]+$' 2 10000 || fail "tail -f of all misses a worker the reload added: $(tail -n 5 fa)"
kill "$fapid"
n=$(grep -c '^\[a\.1\] ' fb)
"$WAITLOG" fb '^\[a\.1\] ' $((n + 2)) 10000 || fail "tail -f b a:1 stopped after b went: $(tail -n 5 fb)"
kill -0 "$fbpid" 2>/dev/null || fail "tail -f b a:1 ended when b went"
kill "$fbpid"
grep -q '^\[c\.0\]' fb && fail "tail -f b a:1 shows c.0"
kill "$fcpid"
ctl tail -f -n 0 c >fd 2>&1 &
fdpid=$!
"$WAITLOG" fd '^c line [0-9]+$' 1 10000 || fail "tail -f c: nothing"
ctl tail -f -n 0 c:0 a >fe2 2>&1 &
fepid=$!
"$WAITLOG" fe2 '^\[c\.0\] ' 1 10000 || fail "tail -f c:0 a: nothing"
sed -i -e 's/^\[agent:c\]$/[agent:d]/' "$T/corral.ini"
ctl reload >/dev/null || fail "reload 2"
pids_exited 10 "$fdpid" || fail "tail -f c goes on after c was removed"
wait "$fdpid"
assert_eq "$?" 1 "exit status of tail -f of a worker a reload removed"
grep -q 'corralctl: c\.0 was removed by a reload' fd || fail "tail -f c: $(tail -n 3 fd)"
kill "$fepid"

stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
echo "tail merged several workers, prefixed, whole lines; one worker stays plain"
