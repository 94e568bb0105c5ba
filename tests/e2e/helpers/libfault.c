/*
 * libfault: an LD_PRELOAD shim that makes file I/O fail on demand, in the
 * processes it is loaded into and only for the files a test names, so that
 * the end-to-end tests can fill a disk, make it read-only or fail it
 * without touching the machine's.
 *
 * FAULT_PATH   a database file: it and its -wal, -shm and -journal
 *              files are watched (not, say, its .lock).
 * FAULT_SWITCH a file read at every call: while it exists, its first word
 *              is the fault, from that call on:
 *                enospc  writes, truncations and allocations of watched
 *                        files fail with ENOSPC (a full disk);
 *                erofs   opens of watched files for writing fail with
 *                        EROFS, and so do writes to those already open
 *                        (a read-only remount);
 *                eio     reads, writes and syncs of watched files fail
 *                        with EIO (a failing disk).
 *              No file (or another word): no fault.
 *
 * usage: LD_PRELOAD=.../libfault.so FAULT_PATH=/tmp/x/state.db \
 *            FAULT_SWITCH=/tmp/x/fault program ...
 *        echo enospc >/tmp/x/fault    # the disk is full from now on
 *        rm /tmp/x/fault              # and has room again
 *
 * Like libwallshift, it calls the kernel directly (syscall(2)), never the
 * functions it replaces: no dlsym, and it works under a sanitizer's
 * runtime.  A file is watched by descriptor, from its open to its close.
 */
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NWATCH 65536

static unsigned char watched[NWATCH];

enum fault { F_NONE, F_ENOSPC, F_EROFS, F_EIO };

static enum fault
fault_now(void)
{
	const char *sw = getenv("FAULT_SWITCH");
	char buf[16];
	long fd, n;
	int saved = errno;

	if (sw == NULL)
		return F_NONE;
	fd = syscall(SYS_openat, AT_FDCWD, sw, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errno = saved;
		return F_NONE;
	}
	n = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
	syscall(SYS_close, fd);
	errno = saved;
	buf[n > 0 ? n : 0] = '\0';
	if (strncmp(buf, "enospc", 6) == 0)
		return F_ENOSPC;
	if (strncmp(buf, "erofs", 5) == 0)
		return F_EROFS;
	if (strncmp(buf, "eio", 3) == 0)
		return F_EIO;
	return F_NONE;
}

static int
path_watched(const char *path)
{
	const char *p = getenv("FAULT_PATH"), *rest;

	if (p == NULL || *p == '\0' || path == NULL ||
	    strncmp(path, p, strlen(p)) != 0)
		return 0;
	rest = path + strlen(p);
	return *rest == '\0' || strcmp(rest, "-wal") == 0 ||
	    strcmp(rest, "-shm") == 0 || strcmp(rest, "-journal") == 0;
}

static int
fd_watched(long fd)
{
	return fd >= 0 && fd < NWATCH && watched[fd];
}

static long
fail(int e)
{
	errno = e;
	return -1;
}

static int
do_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	long fd;

	if (path_watched(path) && (flags & O_ACCMODE) != O_RDONLY &&
	    fault_now() == F_EROFS)
		return (int)fail(EROFS);
	fd = syscall(SYS_openat, dirfd, path, flags, mode);
	if (fd >= 0 && fd < NWATCH)
		watched[fd] = (unsigned char)path_watched(path);
	return (int)fd;
}

#define MODE_ARG(flags, mode) do {                                        \
	va_list ap;                                                       \
	mode = 0;                                                         \
	if ((flags) & (O_CREAT | __O_TMPFILE)) {                          \
		va_start(ap, flags);                                      \
		mode = va_arg(ap, mode_t);                                \
		va_end(ap);                                               \
	}                                                                 \
} while (0)

int open(const char *, int, ...);
int open64(const char *, int, ...);
int openat(int, const char *, int, ...);
int openat64(int, const char *, int, ...);

int
open(const char *path, int flags, ...)
{
	mode_t mode;

	MODE_ARG(flags, mode);
	return do_openat(AT_FDCWD, path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	mode_t mode;

	MODE_ARG(flags, mode);
	return do_openat(AT_FDCWD, path, flags, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	MODE_ARG(flags, mode);
	return do_openat(dirfd, path, flags, mode);
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	MODE_ARG(flags, mode);
	return do_openat(dirfd, path, flags, mode);
}

int
close(int fd)
{
	if (fd >= 0 && fd < NWATCH)
		watched[fd] = 0;
	return (int)syscall(SYS_close, fd);
}

/* The errno a write to fd fails with now, or 0. */
static int
write_fault(int fd)
{
	if (!fd_watched(fd))
		return 0;
	switch (fault_now()) {
	case F_ENOSPC:
		return ENOSPC;
	case F_EROFS:
		return EROFS;
	case F_EIO:
		return EIO;
	default:
		return 0;
	}
}

static int
read_fault(int fd)
{
	return fd_watched(fd) && fault_now() == F_EIO ? EIO : 0;
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	int e = write_fault(fd);

	return e ? fail(e) : syscall(SYS_write, fd, buf, n);
}

ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	int e = write_fault(fd);

	return e ? fail(e) : syscall(SYS_pwrite64, fd, buf, n, off);
}

ssize_t pwrite64(int, const void *, size_t, off_t);

ssize_t
pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	int e = write_fault(fd);

	return e ? fail(e) : syscall(SYS_pwrite64, fd, buf, n, off);
}

ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	int e = write_fault(fd);

	return e ? fail(e) : syscall(SYS_writev, fd, iov, n);
}

int
ftruncate(int fd, off_t len)
{
	int e = write_fault(fd);

	return e ? (int)fail(e) : (int)syscall(SYS_ftruncate, fd, len);
}

int ftruncate64(int, off_t);

int
ftruncate64(int fd, off_t len)
{
	return ftruncate(fd, len);
}

int
fallocate(int fd, int mode, off_t off, off_t len)
{
	int e = write_fault(fd);

	return e ? (int)fail(e) : (int)syscall(SYS_fallocate, fd, mode, off,
	    len);
}

int
posix_fallocate(int fd, off_t off, off_t len)
{
	int e = write_fault(fd);

	/* posix_fallocate returns the error, it does not set errno. */
	if (e)
		return e;
	return syscall(SYS_fallocate, fd, 0, off, len) == -1 ? errno : 0;
}

int
fsync(int fd)
{
	return read_fault(fd) ? (int)fail(EIO) : (int)syscall(SYS_fsync, fd);
}

int
fdatasync(int fd)
{
	return read_fault(fd) ? (int)fail(EIO) :
	    (int)syscall(SYS_fdatasync, fd);
}

ssize_t
read(int fd, void *buf, size_t n)
{
	return read_fault(fd) ? fail(EIO) : syscall(SYS_read, fd, buf, n);
}

ssize_t
pread(int fd, void *buf, size_t n, off_t off)
{
	return read_fault(fd) ? fail(EIO) : syscall(SYS_pread64, fd, buf, n,
	    off);
}

ssize_t pread64(int, void *, size_t, off_t);

ssize_t
pread64(int fd, void *buf, size_t n, off_t off)
{
	return pread(fd, buf, n, off);
}
