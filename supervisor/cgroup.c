/*
 * cgroup.c: a cgroup v2 directory per worker instance, when corrald can
 * make one, so that everything a run starts (grandchildren that left its
 * process group included) can be counted, found again by a later corrald
 * and killed at once with cgroup.kill.  Only the core files are used
 * (cgroup.procs, cgroup.events, cgroup.kill): no controller is enabled,
 * so corrald may stay in the cgroup whose children it makes.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corrald.h"

/* Where the cgroup v2 hierarchy is mounted; NULL if nowhere. */
static char *
cgroup2_mount(void)
{
	char *line = NULL, *mnt = NULL;
	size_t cap = 0;
	FILE *f;

	if ((f = fopen("/proc/self/mountinfo", "re")) == NULL)
		return NULL;
	while (mnt == NULL && getline(&line, &cap, f) > 0) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS... - FSTYPE SRC */
		char *sep = strstr(line, " - "), point[4096];
		if (sep == NULL || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1)
			mnt = xstrdup(point);
	}
	free(line);
	fclose(f);
	return mnt;
}

/* corrald's own cgroup v2 path ("/" for the root); NULL if none. */
static char *
own_cgroup(void)
{
	char *line = NULL, *own = NULL;
	size_t cap = 0;
	FILE *f;

	if ((f = fopen("/proc/self/cgroup", "re")) == NULL)
		return NULL;
	while (own == NULL && getline(&line, &cap, f) > 0)
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			own = xstrdup(line + 3);
		}
	free(line);
	fclose(f);
	return own;
}

/* FNV-1a: a stable short name for a fleet, from its state database. */
static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void
cgroup_fleet_name(const char *state_db, char *buf, size_t len)
{
	snprintf(buf, len, "corral-%016llx",
	    (unsigned long long)fnv1a(state_db));
}

char *
cgroup_fleet_dir(const char *state_db, const char **why)
{
	char *mnt, *own, *dir;

	if ((mnt = cgroup2_mount()) == NULL) {
		*why = "no cgroup v2 hierarchy is mounted";
		return NULL;
	}
	if ((own = own_cgroup()) == NULL) {
		free(mnt);
		*why = "corrald is in no cgroup v2 (/proc/self/cgroup)";
		return NULL;
	}
	xasprintf(&dir, "%s%s%scorral-%016llx", mnt, own,
	    own[strlen(own) - 1] == '/' ? "" : "/",
	    (unsigned long long)fnv1a(state_db));
	free(mnt);
	free(own);
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		static char msg[4200];
		snprintf(msg, sizeof(msg), "cannot make %s: %s", dir,
		    strerror(errno));
		*why = msg;
		free(dir);
		return NULL;
	}
	return dir;
}

/*
 * A fleet's directory as a state database names it (meta, runs) is
 * checked before corrald reads pids from it or kills what is in it: the
 * file may be damaged, or written by someone else.  It must be under the
 * cgroup v2 mount, by no "." or ".." step, and be named corral-HASH.
 */
bool
cgroup_fleet_dir_valid(const char *dir)
{
	const char *base = strrchr(dir, '/');
	char *mnt;
	size_t n;
	bool ok;

	if (base == NULL || (mnt = cgroup2_mount()) == NULL)
		return false;
	base++;
	n = strlen(mnt);
	ok = strncmp(dir, mnt, n) == 0 && dir[n] == '/' &&
	    strstr(dir, "/./") == NULL && strstr(dir, "/../") == NULL &&
	    strncmp(base, "corral-", 7) == 0 && strlen(base) == 7 + 16 &&
	    strspn(base + 7, "0123456789abcdef") == 16;
	free(mnt);
	return ok;
}

int
cgroup_make(const char *dir)
{
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

int
cgroup_put(const char *dir, const char *file, const char *s)
{
	char path[4200];
	ssize_t n;
	int fd, saved;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	n = write(fd, s, strlen(s));
	/* A short write sets no errno: the one reported must be its. */
	saved = n == -1 || n == (ssize_t)strlen(s) ? errno : EIO;
	close(fd);
	errno = saved;
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

size_t
cgroup_members(const char *dir, pid_t *out, size_t max)
{
	char path[4096];
	size_t n = 0;
	long pid;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (fscanf(f, "%ld", &pid) == 1)
		if (n < max)
			out[n++] = (pid_t)pid;
	fclose(f);
	return n;
}

bool
cgroup_populated(const char *dir)
{
	char path[4096], key[32];
	int v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.events", dir);
	if ((f = fopen(path, "re")) == NULL)
		return false;
	while (fscanf(f, "%31s %d", key, &v) == 2)
		if (strcmp(key, "populated") == 0)
			break;
	fclose(f);
	return strcmp(key, "populated") == 0 && v != 0;
}

void
cgroup_signal(const char *dir, int sig)
{
	pid_t pids[1024];
	size_t n, i;

	/* cgroup.kill takes every process at once, forks in flight too. */
	if (sig == SIGKILL && cgroup_put(dir, "cgroup.kill", "1") == 0)
		return;
	n = cgroup_members(dir, pids, 1024);
	for (i = 0; i < n && i < 1024; i++)
		kill(pids[i], sig);
}

void
cgroup_remove(const char *dir)
{
	/* Still populated, or gone already: either way nothing to do. */
	(void)rmdir(dir);
}

/* Every instance directory under the fleet's: fn(arg, its name). */
void
cgroup_each(const char *fleet_dir, void (*fn)(void *, const char *name),
    void *arg)
{
	struct dirent *d;
	DIR *dp;

	if ((dp = opendir(fleet_dir)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL)
		if (d->d_type == DT_DIR && d->d_name[0] != '.')
			fn(arg, d->d_name);
	closedir(dp);
}
