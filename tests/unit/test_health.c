/*
 * test_health.c: a cluster's health from its counts (supervisor/cluster.c):
 * CRITICAL below min_healthy whatever else, DEGRADED when a member is down
 * or the cluster's breaker is not closed, HEALTHY otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "corrald.h"

static void
test_healthy(void **state)
{
	(void)state;
	assert_int_equal(health_of(3, 0, 1, true), H_HEALTHY);
	assert_int_equal(health_of(1, 0, 1, true), H_HEALTHY);
	/* min_healthy 0: nothing up is no crisis, and nothing down is fine. */
	assert_int_equal(health_of(0, 0, 0, true), H_HEALTHY);
}

static void
test_degraded(void **state)
{
	(void)state;
	assert_int_equal(health_of(2, 1, 1, true), H_DEGRADED);
	assert_int_equal(health_of(2, 1, 2, true), H_DEGRADED);
	/* Everything up, but the cluster's breaker is still open. */
	assert_int_equal(health_of(3, 0, 1, false), H_DEGRADED);
	assert_int_equal(health_of(0, 3, 0, true), H_DEGRADED);
}

static void
test_critical(void **state)
{
	(void)state;
	assert_int_equal(health_of(0, 0, 1, true), H_CRITICAL);
	assert_int_equal(health_of(1, 2, 2, true), H_CRITICAL);
	assert_int_equal(health_of(1, 0, 2, false), H_CRITICAL);
	/* Exactly min_healthy is enough. */
	assert_int_equal(health_of(2, 5, 2, true), H_DEGRADED);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(health_name(H_HEALTHY), "HEALTHY");
	assert_string_equal(health_name(H_DEGRADED), "DEGRADED");
	assert_string_equal(health_name(H_CRITICAL), "CRITICAL");
	assert_string_equal(wstate_name(W_DEGRADED), "DEGRADED");
	assert_string_equal(wstate_name(W_HELD), "HELD");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy),
		cmocka_unit_test(test_degraded),
		cmocka_unit_test(test_critical),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
