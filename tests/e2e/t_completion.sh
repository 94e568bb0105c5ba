# corralctl's bash completion (etc/completion/corralctl.bash) completes
# commands, options, states, signals and the names of agents, AGENT:N
# and clusters, asked of the running corrald that -s (or the environment)
# names, and nothing when none answers; the zsh one is valid zsh (checked
# when zsh is installed).
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[cluster:team]

[agent:alpha]
command = $TW sleep
healthy_after = 100ms
numprocs = 2
cluster = team

[agent:beta]
command = $TW sleep
healthy_after = 100ms
EOF2
start_corrald
wait_log 'agent beta\.0: STARTING -> RUNNING'

# comp WORD...: what completing the last word of "corralctl WORD..." offers,
# as bash splits the line (at ':' and '='), sorted, on one line.
cat >comp.bash <<'EOF2'
. "$1/etc/completion/corralctl.bash"
shift
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
_corralctl corralctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'
EOF2
comp() { env -u CORRAL_SOCKET -u CORRAL_CONFIG bash comp.bash "$TOP" "$@"; }
c() { comp "$CTL" -s "$SOCK" "$@"; }

assert_eq "$(comp corralctl st)" "start status stop" "commands"
assert_eq "$(comp corralctl '')" "checkpoints events history is-active is-failed log reexec reload reset restart scale shutdown signal start status stop tail version" "every command"
assert_eq "$(comp corralctl --c)" "--config" "corralctl's options"
assert_eq "$(c restart '')" "all alpha alpha:0 alpha:1 beta beta:0 team" "targets"
assert_eq "$(c stop al)" "all alpha alpha:0 alpha:1" "targets by prefix"
# bash replaces what follows the ':' it split the word at.
assert_eq "$(c stop alpha :)" "0 1" "instances after AGENT:"
assert_eq "$(c stop alpha : 1)" "1" "AGENT:1"
assert_eq "$(c stop --)" "--no-wait" "start, stop, restart options"
assert_eq "$(c is-active b)" "beta beta:0" "is-active targets"
assert_eq "$(c status --)" "--json --state" "status options"
assert_eq "$(c status --state ru)" "running" "a state"
assert_eq "$(c status --state running,f)" "running,failed running,fatal" "the next state of a list"
assert_eq "$(c status --state = he)" "held" "--state=STATE"
assert_eq "$(c tail --)" "--all-streams --stderr" "tail options"
assert_eq "$(c tail -n '')" "" "a number after -n"
assert_eq "$(c signal U)" "USR1 USR2" "signals"
assert_eq "$(c signal HUP t)" "team" "a target after the signal"
assert_eq "$(comp "$CTL" -s "$T/nowhere.sock" stop '')" "" "no corrald: no names"
assert_eq "$(CORRAL_SOCKET="$SOCK" bash comp.bash "$TOP" "$CTL" stop be)" "beta beta:0" "CORRAL_SOCKET"

if command -v zsh >/dev/null 2>&1; then
	zsh -n "$TOP/etc/completion/_corralctl" || fail "_corralctl is not valid zsh"
	echo "zsh: _corralctl parses"
else
	echo "zsh: not installed, _corralctl not checked"
fi
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"
echo "bash completed commands, options, states, signals and names"
