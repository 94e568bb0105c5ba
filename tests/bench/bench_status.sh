# corralctl status --json against a fleet of 1,000 workers: wall time per
# call, with 'corralctl version' (one round trip, no work) as the baseline
# measured in the same run.  Figures are printed, not asserted: this
# machine is shared and noisy.  Target: under 100 ms.
. "$(dirname "$0")/../e2e/lib.sh"

N=${BENCH_WORKERS:-1000}
CALLS=${BENCH_CALLS:-30}
conf <<EOF2
[agent:w]
command = $TW sleep
numprocs = $N
healthy_after = 500ms
stdout = null
stderr = null
EOF2
sed -i 's/^log_level = debug/log_level = info/' "$T/corral.ini"
start_corrald
wait_log 'STARTING -> RUNNING' "$N" 120

measure() { # COMMAND...: prints one wall time per call, in ms
	k=0
	while [ $k -lt "$CALLS" ]; do
		a=$(date +%s%N)
		"$@" >/dev/null || fail "$* failed"
		b=$(date +%s%N)
		echo $(( (b - a) / 1000 ))
		k=$((k + 1))
	done
}
summary() { # NAME: reads microseconds, prints min / median / max in ms
	sort -n | awk -v name="$1" '{ v[NR] = $1 } END {
		printf "%-28s min %7.2f ms  median %7.2f ms  max %7.2f ms\n",
		    name, v[1] / 1000, v[int((NR + 1) / 2)] / 1000, v[NR] / 1000 }'
}
measure ctl version >base.txt
measure ctl status --json >json.txt
measure ctl status >table.txt
bytes=$(ctl status --json | wc -c)
echo "status of $N workers ($bytes bytes of JSON), $CALLS calls each:"
summary "corralctl version (baseline)" <base.txt
summary "corralctl status --json" <json.txt
summary "corralctl status (table)" <table.txt
b=$(sort -n base.txt | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
j=$(sort -n json.txt | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
awk -v b="$b" -v j="$j" 'BEGIN { printf "status --json / baseline: %.1fx; target < 100 ms: %s\n", j / b, j < 100000 ? "met" : "NOT met" }'
stop_corrald
