/*
 * test_lease.c: the pure decisions of lease.c, on a fake clock: how often
 * a node renews, until when it may vouch for its leases (its workers stop
 * before another node may take their threads over), and when a worker
 * whose thread another node holds tries again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "corrald.h"

static void
t_period(void **state)
{
	(void)state;
	assert_int_equal(lease_period_ms(15000), 5000);
	assert_int_equal(lease_period_ms(2000), 666);
	assert_int_equal(lease_period_ms(LEASE_TTL_MIN_MS), 333);
	/* Never a timer of zero, whatever it is given. */
	assert_int_equal(lease_period_ms(0), 1);
	assert_int_equal(lease_period_ms(2), 1);
}

static void
t_vouched(void **state)
{
	const uint64_t ttl = 15000, ok = 100000;

	(void)state;
	/* Renewed just now, and up to a period before it could expire. */
	assert_true(lease_vouched(ok, ttl, ok));
	assert_true(lease_vouched(ok, ttl, ok + 9999));
	/* From then on the node stops its workers: one period of margin. */
	assert_false(lease_vouched(ok, ttl, ok + 10000));
	assert_false(lease_vouched(ok, ttl, ok + ttl));
	assert_false(lease_vouched(ok, ttl, ok + 10 * ttl));
	/* A renewal that worked moves the horizon. */
	assert_true(lease_vouched(ok + 5000, ttl, ok + 10000));
}

static void
t_vouched_before_expiry(void **state)
{
	uint64_t ttl, now;

	(void)state;
	/*
	 * Whatever the ttl, the last moment a node vouches comes before the
	 * lease can expire by at least one renewal period.
	 */
	for (ttl = LEASE_TTL_MIN_MS; ttl <= 60000; ttl += 777) {
		for (now = 0; lease_vouched(0, ttl, now); now += 7)
			;
		assert_true(now + lease_period_ms(ttl) <= ttl + 7);
		assert_true(now > 0);
	}
}

static void
t_retry(void **state)
{
	const uint64_t ttl = 15000;

	(void)state;
	/* Expiring soon: not before one period, so no busy loop. */
	assert_int_equal(lease_retry_ms(0, ttl), 5000);
	assert_int_equal(lease_retry_ms(100, ttl), 5000);
	/* Later: just after it would expire. */
	assert_int_equal(lease_retry_ms(8000, ttl), 8000 + 1250 + 1);
	/* Never more than one ttl: a renewed lease is looked at again. */
	assert_int_equal(lease_retry_ms(14000, ttl), ttl);
	assert_int_equal(lease_retry_ms(UINT32_MAX, ttl), ttl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_period),
		cmocka_unit_test(t_vouched),
		cmocka_unit_test(t_vouched_before_expiry),
		cmocka_unit_test(t_retry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
