/*
 * libfault: an LD_PRELOAD shim that makes file operations on the files
 * under one path prefix fail with a chosen errno, while a switch file
 * exists, in the processes it is loaded into and no other.  It lets the
 * end-to-end tests give a database a full disk (ENOSPC), an I/O error
 * (EIO) or a read-only file system (EROFS) without touching the machine's
 * disks.
 *
 * Environment:
 *   FAULT_PATH    a database file: it and its -wal, -shm and -journal
 *                 files are hit, not its .lock (DIR/ck.db hits ck.db,
 *                 ck.db-wal and ck.db-shm); ending in '/', a directory:
 *                 every file under it is hit.  Unset: the shim does
 *                 nothing.
 *   FAULT_ERRNO   the error: a name (ENOSPC, EIO, EROFS, EDQUOT, EACCES,
 *                 EPERM, EFBIG, ENOMEM, EAGAIN) or a number.  Unset:
 *                 ENOSPC.  Anything else: the shim does nothing and says
 *                 so once on stderr.
 *   FAULT_SWITCH  a file: the fault is on while it exists (checked at
 *                 every call).  Unset: always on.
 *   FAULT_OPS     which calls fail, a comma-separated list of
 *                   write     write, pwrite, pwrite64, writev, pwritev,
 *                             fallocate, posix_fallocate (and their 64s)
 *                   sync      fsync, fdatasync
 *                   truncate  ftruncate, ftruncate64
 *                   open      open, open64, openat, openat64 for writing
 *                             or creating (a read-only open goes through)
 *                 Unset: write.
 *
 * usage: LD_PRELOAD=.../libfault.so FAULT_PATH=/x/ck.db FAULT_ERRNO=ENOSPC \
 *            FAULT_SWITCH=/x/disk-full program ...
 *        touch /x/disk-full    # from the next call on, writes fail
 *        rm /x/disk-full       # and go through again
 *
 * A descriptor's path is what /proc/self/fd says of it, read only while
 * the fault is on.  It calls the kernel directly (syscall(2)), never the
 * functions it replaces, so it needs no dlsym and works before a
 * sanitizer's runtime is set up; errno is left as it was when the call
 * goes through.  Calls libc makes internally (stdio's own writes) are
 * not seen: what a program or a library calls by name is.
 */
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { OP_WRITE = 1, OP_SYNC = 2, OP_TRUNCATE = 4, OP_OPEN = 8 };

/* The settings, read once; -1: not yet, 0: off, 1: on. */
static int ready = -1;
static const char *prefix;
static size_t prefix_len;
static const char *switch_file;
static int fault_errno;
static unsigned ops;

static void
say(const char *msg)
{
	syscall(SYS_write, 2, msg, strlen(msg));
}

static int
errno_of(const char *s)
{
	static const struct {
		const char *name;
		int value;
	} names[] = {
		{ "ENOSPC", ENOSPC }, { "EIO", EIO }, { "EROFS", EROFS },
		{ "EDQUOT", EDQUOT }, { "EACCES", EACCES }, { "EPERM", EPERM },
		{ "EFBIG", EFBIG }, { "ENOMEM", ENOMEM }, { "EAGAIN", EAGAIN },
	};
	char *end;
	long v;
	size_t i;

	if (s == NULL || *s == '\0')
		return ENOSPC;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].value;
	v = strtol(s, &end, 10);
	return *end == '\0' && v > 0 && v < 4096 ? (int)v : -1;
}

static unsigned
ops_of(const char *s)
{
	unsigned o = 0;
	size_t n;

	if (s == NULL || *s == '\0')
		return OP_WRITE;
	for (; *s != '\0'; s += n + (s[n] == ',')) {
		n = strcspn(s, ",");
		if (n == 5 && strncmp(s, "write", n) == 0)
			o |= OP_WRITE;
		else if (n == 4 && strncmp(s, "sync", n) == 0)
			o |= OP_SYNC;
		else if (n == 8 && strncmp(s, "truncate", n) == 0)
			o |= OP_TRUNCATE;
		else if (n == 4 && strncmp(s, "open", n) == 0)
			o |= OP_OPEN;
		else
			return 0;
	}
	return o;
}

static void
setup(void)
{
	prefix = getenv("FAULT_PATH");
	switch_file = getenv("FAULT_SWITCH");
	fault_errno = errno_of(getenv("FAULT_ERRNO"));
	ops = ops_of(getenv("FAULT_OPS"));
	ready = 0;
	if (prefix == NULL || *prefix == '\0')
		return;
	if (fault_errno == -1) {
		say("libfault: FAULT_ERRNO is no errno name or number; "
		    "doing nothing\n");
		return;
	}
	if (ops == 0) {
		say("libfault: FAULT_OPS is not a list of write, sync, "
		    "truncate, open; doing nothing\n");
		return;
	}
	prefix_len = strlen(prefix);
	ready = 1;
}

/* Is the fault on for op now? */
static bool
on(unsigned op)
{
	int saved = errno;
	bool r;

	if (ready == -1)
		setup();
	if (ready != 1 || !(ops & op))
		return false;
	r = switch_file == NULL ||
	    syscall(SYS_faccessat, AT_FDCWD, switch_file, F_OK, 0) == 0;
	errno = saved;
	return r;
}

static bool
path_hit(const char *path)
{
	const char *rest;

	if (path == NULL || strncmp(path, prefix, prefix_len) != 0)
		return false;
	rest = path + prefix_len;
	return prefix[prefix_len - 1] == '/' || *rest == '\0' ||
	    strcmp(rest, "-wal") == 0 || strcmp(rest, "-shm") == 0 ||
	    strcmp(rest, "-journal") == 0 ||
	    strcmp(rest, " (deleted)") == 0;
}

/* "/proc/self/fd/N" into buf (64 bytes), without stdio. */
static void
fd_link(int fd, char *buf)
{
	char digits[16];
	unsigned v = (unsigned)fd;
	int i = 0, k = 14;

	memcpy(buf, "/proc/self/fd/", 14);
	do
		digits[i++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (i > 0)
		buf[k++] = digits[--i];
	buf[k] = '\0';
}

/* The path fd names into path (4096 bytes).  false: none. */
static bool
fd_path(int fd, char *path)
{
	char link[64];
	long n;
	int saved = errno;

	if (fd < 0)
		return false;
	fd_link(fd, link);
	n = syscall(SYS_readlinkat, AT_FDCWD, link, path, 4095);
	errno = saved;
	if (n <= 0)
		return false;
	path[n] = '\0';
	return true;
}

/* Does fd name a file under the prefix? */
static bool
fd_hit(int fd)
{
	char path[4096];

	return fd_path(fd, path) && path_hit(path);
}

static bool
fail_fd(unsigned op, int fd)
{
	if (!on(op) || !fd_hit(fd))
		return false;
	errno = fault_errno;
	return true;
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	if (fail_fd(OP_WRITE, fd))
		return -1;
	return syscall(SYS_write, fd, buf, len);
}

ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{
	if (fail_fd(OP_WRITE, fd))
		return -1;
	return syscall(SYS_pwrite64, fd, buf, len, off);
}

ssize_t
pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	return pwrite(fd, buf, len, off);
}

ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	if (fail_fd(OP_WRITE, fd))
		return -1;
	return syscall(SYS_writev, fd, iov, n);
}

ssize_t
pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	if (fail_fd(OP_WRITE, fd))
		return -1;
	/* The kernel takes the offset in two halves. */
	return syscall(SYS_pwritev, fd, iov, n, (unsigned long)off,
	    (unsigned long)((unsigned long long)off >> 32));
}

ssize_t
pwritev64(int fd, const struct iovec *iov, int n, off_t off)
{
	return pwritev(fd, iov, n, off);
}

int
fallocate(int fd, int mode, off_t off, off_t len)
{
	if (fail_fd(OP_WRITE, fd))
		return -1;
	return (int)syscall(SYS_fallocate, fd, mode, off, len);
}

int
fallocate64(int fd, int mode, off_t off, off_t len)
{
	return fallocate(fd, mode, off, len);
}

/* posix_fallocate returns the error instead of setting errno. */
int
posix_fallocate(int fd, off_t off, off_t len)
{
	int saved = errno, rc;

	if (fail_fd(OP_WRITE, fd)) {
		errno = saved;
		return fault_errno;
	}
	rc = syscall(SYS_fallocate, fd, 0, off, len) == 0 ? 0 : errno;
	errno = saved;
	return rc;
}

int
posix_fallocate64(int fd, off_t off, off_t len)
{
	return posix_fallocate(fd, off, len);
}

int
fsync(int fd)
{
	if (fail_fd(OP_SYNC, fd))
		return -1;
	return (int)syscall(SYS_fsync, fd);
}

int
fdatasync(int fd)
{
	if (fail_fd(OP_SYNC, fd))
		return -1;
	return (int)syscall(SYS_fdatasync, fd);
}

int
ftruncate(int fd, off_t len)
{
	if (fail_fd(OP_TRUNCATE, fd))
		return -1;
	return (int)syscall(SYS_ftruncate, fd, len);
}

int
ftruncate64(int fd, off_t len)
{
	return ftruncate(fd, len);
}

/*
 * Only an open that would write or create is refused.  A relative path
 * is made absolute against its directory (the working one, or dirfd's).
 */
static bool
fail_open(int dirfd, const char *path, int flags)
{
	char full[4096 + 256];
	const char *p = path;
	size_t l;
	long n;
	int saved = errno;

	if (path == NULL || (flags & (O_WRONLY | O_RDWR | O_CREAT |
	    O_TRUNC)) == 0 || !on(OP_OPEN))
		return false;
	if (path[0] != '/') {
		if (dirfd == AT_FDCWD) {
			n = syscall(SYS_getcwd, full, 4096);
			if (n <= 0)
				full[0] = '\0';
		} else if (!fd_path(dirfd, full))
			full[0] = '\0';
		l = strlen(full);
		if (l > 0 && l + strlen(path) + 2 < sizeof(full)) {
			full[l] = '/';
			memcpy(full + l + 1, path, strlen(path) + 1);
			p = full;
		}
	}
	errno = saved;
	if (!path_hit(p))
		return false;
	errno = fault_errno;
	return true;
}

/*
 * The four opens, once: the mode is read from ap only when flags say
 * there is one.
 */
static int
do_open(int dirfd, const char *path, int flags, va_list ap)
{
	mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ?
	    (mode_t)va_arg(ap, int) : 0;

	if (fail_open(dirfd, path, flags))
		return -1;
	return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = do_open(dirfd, path, flags, ap);
	va_end(ap);
	return fd;
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = do_open(dirfd, path, flags, ap);
	va_end(ap);
	return fd;
}

int
open(const char *path, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = do_open(AT_FDCWD, path, flags, ap);
	va_end(ap);
	return fd;
}

int
open64(const char *path, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = do_open(AT_FDCWD, path, flags, ap);
	va_end(ap);
	return fd;
}
