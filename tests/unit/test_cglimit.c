/*
 * test_cglimit.c: memory_max and cpu_quota (supervisor/cglimit.c):
 * cpu_quota's percentages parsed, refused, printed back and turned into
 * the kernel's microseconds; the v1 directory of a controller found from
 * mountinfo and /proc/self/cgroup texts (a hybrid host, cpu and cpuacct
 * mounted together, a container's mount of its own cgroup, a process
 * outside it, no hierarchy); the OOM kill count read from v1's
 * memory.oom_control and v2's memory.events; the keys loaded, printed
 * and compared across a reload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "corrald.h"

static void
test_quota_parse(void **state)
{
	static const struct { const char *s; uint32_t q; } ok[] = {
		{ "50%", 5000 }, { "200%", 20000 }, { "1%", 100 },
		{ "12.5%", 1250 }, { "2.25%", 225 }, { "100.0%", 10000 },
		{ "1000000%", 100000000 }, { "20%", 2000 },
	};
	const char *why;
	uint32_t q;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		q = 0;
		assert_int_equal(cpu_quota_parse(ok[i].s, &q, &why), 0);
		assert_int_equal(q, ok[i].q);
	}
}

static void
test_quota_refused(void **state)
{
	static const char *bad[] = { "", "50", "50 %", "%", "-5%", "0%",
		"0.99%", "0.5%", "12.345%", "1.%", "1000000.01%", "1000001%",
		"99999999999999999999%", "50%%", "fifty%", "5e2%", " 50%" };
	const char *why;
	uint32_t q = 7;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(cpu_quota_parse(bad[i], &q, &why), -1);
		assert_non_null(why);
		/* A refusal leaves the value alone. */
		assert_int_equal(q, 7);
	}
	assert_int_equal(cpu_quota_parse("0.5%", &q, &why), -1);
	assert_non_null(strstr(why, "below 1%"));
	assert_int_equal(cpu_quota_parse("50", &q, &why), -1);
	assert_non_null(strstr(why, "ends in %"));
}

static void
test_quota_format(void **state)
{
	static const char *round[] = { "50%", "200%", "1%", "12.5%", "2.25%",
		"1000000%", "33.33%", "7.05%" };
	char buf[32];
	const char *why;
	uint32_t q;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(round) / sizeof(round[0]); i++) {
		assert_int_equal(cpu_quota_parse(round[i], &q, &why), 0);
		cpu_quota_format(q, buf, sizeof(buf));
		assert_string_equal(buf, round[i]);
	}
	cpu_quota_format(10000, buf, sizeof(buf));
	assert_string_equal(buf, "100%");
}

static void
test_quota_us(void **state)
{
	(void)state;
	/* Per 100 ms: 20% is 20 ms, two CPUs 200 ms, 1% the kernel's 1 ms. */
	assert_int_equal(cpu_quota_us(2000, CPU_QUOTA_PERIOD_US), 20000);
	assert_int_equal(cpu_quota_us(20000, CPU_QUOTA_PERIOD_US), 200000);
	assert_int_equal(cpu_quota_us(CPU_QUOTA_MIN, CPU_QUOTA_PERIOD_US),
	    1000);
	assert_int_equal(cpu_quota_us(1250, CPU_QUOTA_PERIOD_US), 12500);
	assert_int_equal(cpu_quota_us(CPU_QUOTA_MAX, CPU_QUOTA_PERIOD_US),
	    1000000000ULL);
}

/* A hybrid host: v1 hierarchies, cpu and cpuacct apart, and cgroup2. */
static const char hybrid_mi[] =
    "22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup "
    "rw,cpuacct\n"
    "33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup "
    "rw,cpuset\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup "
    "rw,memory\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 "
    "rw\n";
static const char hybrid_pc[] =
    "9:name=systemd:/\n"
    "4:memory:/process_api/2852b49358cb\n"
    "3:cpuset:/\n"
    "2:cpuacct:/x\n"
    "1:cpu:/\n"
    "0::/\n";

static void
test_v1_dir(void **state)
{
	char *d;

	(void)state;
	d = cgl_v1_dir(hybrid_mi, hybrid_pc, "memory");
	assert_non_null(d);
	assert_string_equal(d, "/sys/fs/cgroup/memory/process_api/2852b49358cb");
	free(d);
	/* The root cgroup: the mount point itself, no trailing slash. */
	d = cgl_v1_dir(hybrid_mi, hybrid_pc, "cpu");
	assert_non_null(d);
	assert_string_equal(d, "/sys/fs/cgroup/cpu");
	free(d);
	/* "cpu" is not "cpuacct" nor "cpuset". */
	d = cgl_v1_dir(hybrid_mi, hybrid_pc, "cpuacct");
	assert_string_equal(d, "/sys/fs/cgroup/cpuacct/x");
	free(d);
	assert_null(cgl_v1_dir(hybrid_mi, hybrid_pc, "pids"));
}

static void
test_v1_dir_comounted(void **state)
{
	/* Debian's systemd on v1: cpu and cpuacct share a hierarchy. */
	static const char mi[] =
	    "25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,"
	    "relatime shared:7 - cgroup cgroup rw,cpu,cpuacct\n"
	    "26 24 0:23 / /sys/fs/cgroup/memory rw,nosuid shared:8 - cgroup "
	    "cgroup rw,memory\n";
	static const char pc[] =
	    "5:memory:/system.slice/corral.service\n"
	    "4:cpu,cpuacct:/system.slice/corral.service/\n";
	char *d;

	(void)state;
	d = cgl_v1_dir(mi, pc, "cpu");
	assert_string_equal(d,
	    "/sys/fs/cgroup/cpu,cpuacct/system.slice/corral.service");
	free(d);
	d = cgl_v1_dir(mi, pc, "memory");
	assert_string_equal(d, "/sys/fs/cgroup/memory/system.slice/"
	    "corral.service");
	free(d);
}

static void
test_v1_dir_container(void **state)
{
	/* A container sees its own cgroup mounted (root /docker/ID). */
	static const char mi[] =
	    "700 690 0:31 /docker/abc /sys/fs/cgroup/memory ro,nosuid - "
	    "cgroup cgroup rw,memory\n";
	static const char in[] = "4:memory:/docker/abc/app\n";
	static const char at[] = "4:memory:/docker/abc\n";
	static const char out[] = "4:memory:/docker/abcdef\n";
	static const char other[] = "4:memory:/elsewhere\n";
	char *d;

	(void)state;
	d = cgl_v1_dir(mi, in, "memory");
	assert_string_equal(d, "/sys/fs/cgroup/memory/app");
	free(d);
	d = cgl_v1_dir(mi, at, "memory");
	assert_string_equal(d, "/sys/fs/cgroup/memory");
	free(d);
	/* Outside what is mounted: not reachable from here. */
	assert_null(cgl_v1_dir(mi, out, "memory"));
	assert_null(cgl_v1_dir(mi, other, "memory"));
}

static void
test_v1_dir_none(void **state)
{
	/* A pure cgroup v2 host: no v1 hierarchy at all. */
	static const char mi[] =
	    "30 22 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n";
	static const char pc[] = "0::/system.slice/corral.service\n";

	(void)state;
	assert_null(cgl_v1_dir(mi, pc, "memory"));
	assert_null(cgl_v1_dir(mi, pc, "cpu"));
	assert_null(cgl_v1_dir("", "", "memory"));
	/* Mounted, but the process is in no cgroup of it. */
	assert_null(cgl_v1_dir(hybrid_mi, "0::/\n", "memory"));
}

static void
test_oom_kills(void **state)
{
	uint64_t n = 99;

	(void)state;
	/* v1's memory.oom_control: oom_kill_disable is not oom_kill. */
	assert_int_equal(cgl_oom_kills("oom_kill_disable 0\nunder_oom 0\n"
	    "oom_kill 3\n", &n), 0);
	assert_int_equal(n, 3);
	/* v2's memory.events. */
	assert_int_equal(cgl_oom_kills("low 0\nhigh 0\nmax 12\noom 2\n"
	    "oom_kill 2\noom_group_kill 0\n", &n), 0);
	assert_int_equal(n, 2);
	/* A kernel before 4.13 has no counter. */
	n = 99;
	assert_int_equal(cgl_oom_kills("oom_kill_disable 0\nunder_oom 0\n",
	    &n), -1);
	assert_int_equal(n, 99);
	assert_int_equal(cgl_oom_kills("", &n), -1);
}

static char *
print_body(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	config_print(c, f);
	fclose(f);
	return buf;
}

/* The keys load, print back, and a change of either is another process. */
static void
test_config_keys(void **state)
{
	static const char text[] =
	    "[agent:a]\ncommand = true\nmemory_max = 64M\ncpu_quota = 12.5%\n"
	    "\n[agent:b]\ncommand = true\n";
	struct config_errors errs;
	struct config *c, *d;
	char *body;

	(void)state;
	c = config_load_text("t.ini", "/", text, sizeof(text) - 1, &errs);
	assert_non_null(c);
	assert_int_equal(c->agents[0].memory_max, 64ULL << 20);
	assert_int_equal(c->agents[0].cpu_quota, 1250);
	assert_int_equal(c->agents[1].memory_max, 0);
	assert_int_equal(c->agents[1].cpu_quota, 0);
	body = print_body(c);
	assert_non_null(strstr(body, "memory_max = 64M\ncpu_quota = 12.5%\n"));
	assert_null(strstr(strstr(body, "[agent:b]"), "memory_max"));
	assert_null(strstr(strstr(body, "[agent:b]"), "cpu_quota"));
	free(body);
	d = config_load_text("t.ini", "/", text, sizeof(text) - 1, &errs);
	assert_non_null(d);
	assert_true(agent_conf_same_process(&c->agents[0], &d->agents[0]));
	d->agents[0].cpu_quota = 5000;
	assert_false(agent_conf_same_process(&c->agents[0], &d->agents[0]));
	d->agents[0].cpu_quota = c->agents[0].cpu_quota;
	d->agents[0].memory_max = 32ULL << 20;
	assert_false(agent_conf_same_process(&c->agents[0], &d->agents[0]));
	config_free(c);
	config_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quota_parse),
		cmocka_unit_test(test_quota_refused),
		cmocka_unit_test(test_quota_format),
		cmocka_unit_test(test_quota_us),
		cmocka_unit_test(test_v1_dir),
		cmocka_unit_test(test_v1_dir_comounted),
		cmocka_unit_test(test_v1_dir_container),
		cmocka_unit_test(test_v1_dir_none),
		cmocka_unit_test(test_oom_kills),
		cmocka_unit_test(test_config_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
