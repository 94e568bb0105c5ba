/*
 * libwallshift: an LD_PRELOAD shim that moves the wall clock of the
 * processes it is loaded into, and of no other: clock_gettime() of
 * CLOCK_REALTIME (and _COARSE), gettimeofday() and time() return the real
 * time plus an offset in seconds, read from the file named by
 * $WALLSHIFT_FILE at every call (no such file, or no number in it: 0).
 * The monotonic clocks are left alone.  It lets the end-to-end tests step
 * corrald's wall clock without touching the machine's.
 *
 * usage: LD_PRELOAD=.../libwallshift.so WALLSHIFT_FILE=FILE program ...
 *        echo -3600 >FILE    # from the next call on, an hour earlier
 *
 * It calls the kernel directly (syscall(2)), never the functions it
 * replaces, so it needs no dlsym and works before a sanitizer's runtime
 * is set up; errno is left as it was.
 */
#include <sys/syscall.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long
shift_s(void)
{
	const char *path = getenv("WALLSHIFT_FILE");
	char buf[32];
	long n;
	int fd;

	if (path == NULL)
		return 0;
	fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
	syscall(SYS_close, fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

int
clock_gettime(clockid_t clk, struct timespec *ts)
{
	int saved = errno;
	long rc = syscall(SYS_clock_gettime, clk, ts);

	if (rc != 0)
		return -1; /* errno set by syscall() */
	if (clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE)
		ts->tv_sec += (time_t)shift_s();
	errno = saved;
	return 0;
}

int
gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;

	(void)tz; /* obsolete; glibc's gives nothing useful either */
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return -1;
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

time_t
time(time_t *t)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (time_t)-1;
	if (t != NULL)
		*t = ts.tv_sec;
	return ts.tv_sec;
}
