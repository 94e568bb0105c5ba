# corrald --check of generated fleet files of 10,000 and 100,000 agents
# (1 cluster per 100 agents, a fallback every 10th, [defaults]): wall time
# of each, best of 3, and the ratio, which is about 10 when loading is
# linear (it was about 50 when it was quadratic).  A one-agent file is the
# baseline (start-up, no work).  Figures, not verdicts.
. "$(dirname "$0")/../e2e/lib.sh"

gen() { # N: a fleet file of N agents on stdout
	awk -v n="$1" 'BEGIN {
		print "[corrald]\nlog_level = info\n"
		print "[defaults]\nbackoff_initial = 1s\nenv = A=1, B=2\n"
		nc = int(n / 100); if (nc < 1) nc = 1
		for (c = 0; c < nc; c++)
			printf "[cluster:c%d]\nstrategy = one_for_one\nmin_healthy = 1\n\n", c
		for (i = 0; i < n; i++) {
			printf "[agent:a%d]\ncommand = /bin/sleep 1000\ncluster = c%d\n", i, i % nc
			if (i > 0 && i % 10 == 0)
				printf "fallback = a%d\n", i - 1
			print ""
		}
	}'
}
best_ms() { # FILE: the best of 3 wall times of corrald --check FILE, in ms
	k=0
	best=
	while [ $k -lt 3 ]; do
		a=$(date +%s%N)
		"$CORRALD" --check "$1" >/dev/null 2>&1 || fail "$1 does not check"
		b=$(date +%s%N)
		t=$(( (b - a) / 1000000 ))
		[ -z "$best" ] || [ "$t" -lt "$best" ] && best=$t
		k=$((k + 1))
	done
	echo "$best"
}
gen 1 >f1.ini
gen 10000 >f10k.ini
gen 100000 >f100k.ini
one=$(best_ms f1.ini)
small=$(best_ms f10k.ini)
large=$(best_ms f100k.ini)
echo "corrald --check (best of 3): 1 agent $one ms, 10,000 agents $small ms, 100,000 agents $large ms"
awk -v s="$small" -v l="$large" -v o="$one" 'BEGIN {
	printf "100,000 / 10,000 agents: %.1fx (linear: 10)\n", (l - o) / (s - o > 0 ? s - o : 1) }'
