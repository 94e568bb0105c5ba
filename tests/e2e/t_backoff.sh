# A crash loop is restarted with exponential backoff: the delays between an
# exit and the next start follow initial x multiplier^k, capped, within the
# jitter, and every failure of the loop belongs to one error chain.
# e2e: alone (tests/run.sh): it times something, loads the machine or builds in the tree.
. "$(dirname "$0")/lib.sh"

conf <<EOF2
[agent:crashy]
command = $TW exit 1
backoff_initial = 200ms
backoff_multiplier = 2
backoff_max = 800ms
backoff_jitter = 0.25
healthy_after = 5s
; the backoff alone, without the breaker (t_breaker tests that)
failure_threshold = 1000
EOF2
start_corrald
wait_log 'agent crashy.0: BACKOFF -> STARTING' 5
stop_corrald
assert_eq "$CRC" 0 "corrald exit status"

# For each exit, the delay to the next spawn, in order.
q "SELECT e.id, (SELECT min(s.time_ms) FROM events s WHERE s.kind='spawn'
    AND s.agent='crashy' AND s.id > e.id) - e.time_ms
   FROM events e WHERE e.kind='exit' AND e.agent='crashy' AND e.class='error'
   ORDER BY e.id LIMIT 5" >delays
[ "$(wc -l <delays)" -eq 5 ] || fail "expected 5 delays, got: $(cat delays)"
k=0
for base in 200 400 800 800 800; do
	k=$((k + 1))
	d=$(sed -n "${k}p" delays | cut -d'|' -f2)
	lo=$((base * 75 / 100 - 2))
	hi=$((base * 125 / 100 + 150)) # scheduling slack on a busy machine
	[ "$d" -ge "$lo" ] && [ "$d" -le "$hi" ] ||
	    fail "delay $k is ${d}ms, expected $base ms +-25% ($lo..$hi)"
	echo "delay $k: ${d}ms (base ${base}ms)"
done

# One chain, every failure a start failure (none lived 5 s), restarts counted.
assert_eq "$(q "SELECT count(DISTINCT chain) FROM events WHERE kind='exit' AND class='error'")" 1 "error chains"
assert_eq "$(q "SELECT count(*) FROM events WHERE kind='exit' AND class='error' AND start_failure=0")" 0 "runtime failures"
assert_eq "$(q "SELECT group_concat(restarts) FROM (SELECT restarts FROM events WHERE kind='spawn' ORDER BY id LIMIT 4)")" "0,1,2,3" "restart counts"
