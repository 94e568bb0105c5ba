# bash completion for corralctl: commands, their options, and the names
# of agents, instances (AGENT:N) and clusters, asked of the corrald that
# the command line's -s or -c (or the environment) names, when it answers.
# Installed by `make install` in share/bash-completion/completions.

# The names a TARGET may be, one a line: all, agents, AGENT:N, clusters.
_corralctl_names()
{
	local json
	json=$(timeout 2 "$@" status --json 2>/dev/null) || return
	echo all
	printf '%s\n' "$json" |
	    grep -o '"\(name\|agent\)":"[^"]*"' |
	    sed -e 's/^"[a-z]*":"\(.*\)"$/\1/' -e 's/\.\([0-9]*\)$/:\1/' |
	    sort -u
}

_corralctl()
{
	local cmds="status start stop restart signal scale reset history
	    checkpoints events tail log reload reexec shutdown version
	    is-active is-failed"
	local states="running starting backoff stopping stopped exited fatal
	    held degraded limited elsewhere waiting failed"
	local signals="HUP INT QUIT TERM KILL USR1 USR2 CONT STOP ALRM WINCH"
	local -a words ctl
	local i w cur prev cmd="" cmdi=0 opts="" names=0 pre

	# COMP_WORDS is split at ':' and '=': put AGENT:N and --x=y together.
	for ((i = 0; i <= COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((i > 1)) && [[ $w == [:=] || ${COMP_WORDS[i-1]} == [:=] ]]; then
			words[${#words[@]}-1]+=$w
		else
			words+=("$w")
		fi
	done
	cur=${words[${#words[@]}-1]}
	prev=
	((${#words[@]} > 1)) && prev=${words[${#words[@]}-2]}

	# corralctl's own options, then the command.
	ctl=("${words[0]}")
	for ((i = 1; i < ${#words[@]} - 1; i++)); do
		case ${words[i]} in
		-s | --socket | -c | --config)
			ctl+=("${words[i]}" "${words[i+1]}")
			((i++))
			;;
		--socket=* | --config=* | -s?* | -c?*) ctl+=("${words[i]}") ;;
		-*) ;;
		*)
			cmd=${words[i]}
			cmdi=$i
			break
			;;
		esac
	done

	COMPREPLY=()
	if [[ -z $cmd ]]; then
		case $prev in
		-s | --socket | -c | --config)
			COMPREPLY=($(compgen -f -- "$cur"))
			return
			;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-s -c -h --socket --config --help" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$cmds" -- "$cur"))
		fi
		return
	fi

	case $cmd in
	status)
		if [[ $prev == --state || $cur == --state=* ]]; then
			# A list: complete its last item.
			w=${cur#--state=}
			pre=${cur%"$w"}
			[[ $w == *,* ]] && pre+=${w%,*}, && w=${w##*,}
			COMPREPLY=($(compgen -P "$pre" -W "$states" -- "$w"))
			# bash replaces only what follows the '=' it split at.
			[[ $cur == --state=* ]] &&
			    COMPREPLY=("${COMPREPLY[@]#--state=}")
			return
		fi
		opts="--json --state"
		names=1
		;;
	start | stop)
		opts="--no-wait"
		names=1
		;;
	restart)
		[[ $prev == --timeout ]] && return
		opts="--no-wait --rolling --timeout"
		names=1
		;;
	scale)
		# AGENT, then a count.
		((${#words[@]} - 1 > cmdi + 1)) && return
		names=1
		;;
	reload)
		opts="--dry-run"
		;;
	log)
		[[ $prev == -n ]] && return
		opts="-f -n"
		;;
	is-active | is-failed)
		names=1
		;;
	signal)
		if ((${#words[@]} - 1 == cmdi + 1)); then
			COMPREPLY=($(compgen -W "$signals" -- "$cur"))
			return
		fi
		names=1
		;;
	reset)
		[[ $prev == --reason ]] && return
		opts="--reason"
		names=1
		;;
	history | checkpoints)
		[[ $prev == -n ]] && return
		opts="-n"
		names=1
		;;
	events)
		[[ $prev == -n ]] && return
		opts="-f -n"
		names=1
		;;
	tail)
		[[ $prev == -n ]] && return
		opts="-f -n --stderr --all-streams"
		names=1
		;;
	*)
		return
		;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	elif ((names)); then
		COMPREPLY=($(compgen -W "$(_corralctl_names "${ctl[@]}")" -- "$cur"))
		# bash replaces only what follows the last ':' of AGENT:N.
		[[ $cur == *:* ]] && COMPREPLY=("${COMPREPLY[@]#"${cur%:*}:"}")
	fi
}
complete -F _corralctl corralctl
