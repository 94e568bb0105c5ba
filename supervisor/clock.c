/*
 * clock.c: the two clocks corrald reads.  Wall time goes into records
 * (events, log lines, a row's time of writing); every duration (a run, a
 * backoff, a breaker's open period, a window) is measured on the monotonic
 * clock, so that a step of the wall clock (NTP, an operator) neither
 * lengthens nor shortens one.  CLOCK_MONOTONIC counts from the boot and is
 * the same for every process of one boot: boot_id() says which boot.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "corrald.h"

void
timer_add_ms(struct event *ev, uint64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

int64_t
now_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
now_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * The kernel's id of this boot, read once.  The monotonic clock counts
 * from the boot, so its times mean something to a later corrald only while
 * this id is the same.  "" when it cannot be read (then every start looks
 * like one after a reboot: nothing earlier is trusted).
 */
const char *
boot_id(void)
{
	static char id[40];
	static int done;
	FILE *f;

	if (done)
		return id;
	done = 1;
	if ((f = fopen("/proc/sys/kernel/random/boot_id", "re")) == NULL)
		return id;
	if (fgets(id, sizeof(id), f) == NULL)
		id[0] = '\0';
	id[strcspn(id, "\n")] = '\0';
	fclose(f);
	return id;
}

void
clocks_now(struct clocks *c)
{
	c->boot_id = boot_id();
	c->mono_ms = now_mono_ms();
	c->wall_ms = now_wall_ms();
}
