/*
 * cglimit.c: an agent's memory_max and cpu_quota, enforced by the kernel
 * through the cgroup v1 memory and cpu controllers.
 *
 * Each instance whose agent sets one gets a directory AGENT.N under
 * corral-HASH (the fleet's name, as cgroup.c gives it) in corrald's own
 * cgroup of that hierarchy, its limit written there before every run;
 * the child joins it before it execs (spawn.c), and a run that cannot
 * join does not start: no run of a limited agent ever runs unlimited.
 *
 * Why v1 and not the cgroup v2 controllers: a v2 controller can be given
 * to the instance directories only through the cgroup.subtree_control of
 * every cgroup above them, and cgroup v2 forbids that in a cgroup that
 * has processes of its own ("no internal processes"): corrald, its
 * watcher and its hooks live in the cgroup that holds corral-HASH.  Using
 * v2 would mean moving them into a leaf of their own first, which
 * changes where a later corrald and a reexec'd image find the fleet's
 * cgroup.  That is not done: where no v1 hierarchy of a controller holds
 * corrald, a key that needs it cannot be enforced, and the agent's
 * workers are held (FATAL, the reason in status) rather than run
 * unlimited (docs/OPERATIONS.md, Containment).
 *
 * A directory is removed when its run is reaped (when empty: a process
 * of the run still dying keeps it until the next run or a clean stop),
 * and at a clean stop.  Its path in each hierarchy is kept in the state
 * database's meta, so that a corrald started after a crash, from another
 * cgroup too, removes what the one before left.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "corrald.h"

static const char *ctl_name[CGL_N] = { "memory", "cpu" };
static const char *key_name[CGL_N] = { "memory_max", "cpu_quota" };
static const char *meta_key[CGL_N] = { "cgroup_memory", "cgroup_cpu" };

int
cpu_quota_parse(const char *s, uint32_t *out, const char **why)
{
	uint64_t v = 0;
	int frac = 0, n = 0;

	if (!isdigit((unsigned char)*s)) {
		*why = "not a percentage of one CPU (examples: 50%, 200% for "
		    "two CPUs, 12.5%)";
		return -1;
	}
	for (; isdigit((unsigned char)*s); s++)
		if ((v = v * 10 + (uint64_t)(*s - '0')) > CPU_QUOTA_MAX) {
			*why = "above 1000000% (10000 CPUs)";
			return -1;
		}
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s) && n < 2; s++, n++)
			frac = frac * 10 + (*s - '0');
		if (n == 0 || isdigit((unsigned char)*s)) {
			*why = "a percentage with at most two decimals "
			    "(12.5%, 2.25%)";
			return -1;
		}
		if (n == 1)
			frac *= 10;
	}
	if (strcmp(s, "%") != 0) {
		*why = "not a percentage of one CPU: it ends in % (examples: "
		    "50%, 200% for two CPUs)";
		return -1;
	}
	v = v * 100 + (uint64_t)frac;
	if (v > CPU_QUOTA_MAX) {
		*why = "above 1000000% (10000 CPUs)";
		return -1;
	}
	if (v < CPU_QUOTA_MIN) {
		*why = "below 1% (the kernel's smallest quota is 1 ms in "
		    "its period of 100 ms)";
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

void
cpu_quota_format(uint32_t q, char *buf, size_t len)
{
	if (q % 100 == 0)
		snprintf(buf, len, "%u%%", q / 100);
	else if (q % 10 == 0)
		snprintf(buf, len, "%u.%u%%", q / 100, q % 100 / 10);
	else
		snprintf(buf, len, "%u.%02u%%", q / 100, q % 100);
}

uint64_t
cpu_quota_us(uint32_t q, uint64_t period_us)
{
	return (uint64_t)q * period_us / 10000;
}

/* Is word one of the comma-separated words of list (n bytes)? */
static bool
in_list(const char *list, size_t n, const char *word)
{
	size_t wl = strlen(word), i = 0, e;

	while (i < n) {
		for (e = i; e < n && list[e] != ','; e++)
			;
		if (e - i == wl && strncmp(list + i, word, wl) == 0)
			return true;
		i = e + 1;
	}
	return false;
}

/*
 * Of mountinfo, the v1 hierarchy that has controller ctl: its mount point
 * and the cgroup mounted there (root).  0, or -1 when none is mounted.
 */
static int
v1_mount(const char *mountinfo, const char *ctl, char *point, char *root,
    size_t len)
{
	const char *line = mountinfo, *end, *sep, *opts;
	char fmt[32];

	snprintf(fmt, sizeof(fmt), "%%*s %%*s %%*s %%%zus %%%zus", len - 1,
	    len - 1);
	for (; *line != '\0'; line = *end ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS... - FSTYPE SRC SOPTS */
		sep = strstr(line, " - ");
		if (sep == NULL || sep > end || strncmp(sep + 3, "cgroup ", 7))
			continue;
		/* Past the source: the super options. */
		if ((opts = memchr(sep + 10, ' ', (size_t)(end - sep - 10))) ==
		    NULL)
			continue;
		opts++;
		if (!in_list(opts, (size_t)(end - opts), ctl))
			continue;
		if (sscanf(line, fmt, root, point) == 2)
			return 0;
	}
	return -1;
}

char *
cgl_v1_dir(const char *mountinfo, const char *proc_cgroup, const char *ctl)
{
	char point[4096], root[4096], *dir;
	const char *line = proc_cgroup, *end, *c1, *c2;
	size_t rl;

	if (v1_mount(mountinfo, ctl, point, root, sizeof(point)) == -1)
		return NULL;
	for (; *line != '\0'; line = *end ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		/* ID:CONTROLLERS:PATH */
		if ((c1 = memchr(line, ':', (size_t)(end - line))) == NULL ||
		    (c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1))) == NULL ||
		    !in_list(c1 + 1, (size_t)(c2 - c1 - 1), ctl))
			continue;
		c2++;
		/* The path is the hierarchy's; the mount shows root's part. */
		rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
		if ((size_t)(end - c2) < rl || strncmp(c2, root, rl) != 0 ||
		    (c2[rl] != '/' && c2 + rl != end))
			return NULL;
		c2 += rl;
		while (end > c2 && end[-1] == '/')
			end--;
		xasprintf(&dir, "%s%.*s", point, (int)(end - c2), c2);
		return dir;
	}
	return NULL;
}

int
cgl_oom_kills(const char *text, uint64_t *n)
{
	const char *p = text;
	unsigned long long v;

	for (; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 :
	    NULL)
		if (strncmp(p, "oom_kill ", 9) == 0 &&
		    sscanf(p + 9, "%llu", &v) == 1) {
			*n = v;
			return 0;
		}
	return -1;
}

/* The whole of a small file (caller frees), or NULL: a read error
 * gives no part of it, which would pass for the whole. */
static char *
slurp(const char *path)
{
	char *buf = NULL;
	size_t cap = 0, n = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	do {
		if (cap - n < 4096)
			buf = xreallocarray(buf, cap += 16384, 1);
		r = read(fd, buf + n, cap - n - 1);
		if (r > 0)
			n += (size_t)r;
	} while (r > 0 || (r == -1 && errno == EINTR));
	close(fd);
	if (r == -1) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* The OOM kills counted in a memory cgroup dir; 0 when unreadable. */
static uint64_t
oom_count(const char *dir)
{
	char path[4200], *t;
	uint64_t n = 0;

	snprintf(path, sizeof(path), "%s/memory.oom_control", dir);
	if ((t = slurp(path)) != NULL && cgl_oom_kills(t, &n) == -1)
		n = 0;
	free(t);
	return n;
}

/*
 * Remove dir, an empty cgroup.  While *budget_ms lasts, wait for its last
 * processes to die first (they were killed); the wait is taken from it.
 * 0, or -1 with errno.
 */
static int
remove_dir(const char *dir, uint64_t *budget_ms)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	while (rmdir(dir) == -1) {
		if (errno != EBUSY || budget_ms == NULL || *budget_ms < 10)
			return errno == ENOENT ? 0 : -1;
		nanosleep(&ts, NULL);
		*budget_ms -= 10;
	}
	return 0;
}

/* Every instance directory under root, then root itself. */
static void
remove_tree(const char *root, uint64_t *budget_ms)
{
	struct dirent *d;
	char path[4200];
	DIR *dp;

	if ((dp = opendir(root)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (d->d_type != DT_DIR || d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, d->d_name);
		if (remove_dir(path, budget_ms) == -1 && errno != EBUSY)
			log_warn("cannot remove the cgroup %s", path);
	}
	closedir(dp);
	(void)rmdir(root);
}

/*
 * A fleet's directory as the state database names it: under the mount of
 * a v1 hierarchy of ctl, by no "." or ".." step, named corral-HASH.
 */
static bool
root_valid(const char *dir, const char *mountinfo, const char *ctl)
{
	char point[4096], root[4096];
	const char *base = strrchr(dir, '/');
	size_t n;

	if (base == NULL || v1_mount(mountinfo, ctl, point, root,
	    sizeof(point)) == -1)
		return false;
	base++;
	n = strlen(point);
	return strncmp(dir, point, n) == 0 && dir[n] == '/' &&
	    strstr(dir, "/./") == NULL && strstr(dir, "/../") == NULL &&
	    strncmp(base, "corral-", 7) == 0 && strlen(base) == 7 + 16 &&
	    strspn(base + 7, "0123456789abcdef") == 16;
}

void
cglimit_init(struct fleet *f)
{
	char *mi = NULL, *pc = NULL, *dir, *was, name[32];
	size_t i;
	bool used[CGL_N] = { false, false };
	int k;

	for (i = 0; i < f->conf->nagents; i++) {
		used[CGL_MEMORY] |= f->conf->agents[i].memory_max > 0;
		used[CGL_CPU] |= f->conf->agents[i].cpu_quota > 0;
	}
	cgroup_fleet_name(f->conf->state_db, name, sizeof(name));
	mi = slurp("/proc/self/mountinfo");
	pc = slurp("/proc/self/cgroup");
	for (k = 0; k < CGL_N; k++) {
		dir = NULL;
		if (!f->conf->cgroup)
			f->cgl_why[k] = "cgroup = off";
		else if (mi == NULL)
			f->cgl_why[k] = "cannot read /proc/self/mountinfo";
		else if (pc == NULL)
			f->cgl_why[k] = "cannot read /proc/self/cgroup";
		else if ((dir = cgl_v1_dir(mi, pc, ctl_name[k])) == NULL)
			f->cgl_why[k] = k == CGL_MEMORY ? "no cgroup v1 memory "
			    "hierarchy holds corrald (corral enforces "
			    "memory_max through cgroup v1 only)" : "no cgroup "
			    "v1 cpu hierarchy holds corrald (corral enforces "
			    "cpu_quota through cgroup v1 only)";
		else {
			xasprintf(&f->cgl_root[k], "%s/%s", dir, name);
			f->cgl_why[k] = NULL;
		}
		free(dir);
		/* What a corrald before left, where it was then too. */
		was = statedb_get_meta(f->db, meta_key[k]);
		if (was != NULL && *was != '\0' && mi != NULL &&
		    !root_valid(was, mi, ctl_name[k]))
			log_warnx("the state database names %s as the fleet's "
			    "cgroup %s directory, which is no fleet's cgroup "
			    "directory; not cleaned", was, ctl_name[k]);
		else if (was != NULL && *was != '\0' && mi != NULL &&
		    (f->cgl_root[k] == NULL || strcmp(was, f->cgl_root[k])))
			remove_tree(was, NULL);
		free(was);
		statedb_set_meta(f->db, meta_key[k], f->cgl_root[k] ?
		    f->cgl_root[k] : "");
		if (f->cgl_root[k] != NULL && used[k])
			log_info("%s: each run gets a cgroup under %s",
			    key_name[k], f->cgl_root[k]);
	}
	free(mi);
	free(pc);
	for (i = 0; i < f->conf->nagents; i++) {
		const struct agent_conf *a = &f->conf->agents[i];
		const char *why = cglimit_unavailable(f, a);
		if (why != NULL)
			log_error("agent %s: %s; its workers are held (FATAL) "
			    "rather than run unlimited", a->name, why);
	}
}

const char *
cglimit_unavailable(const struct fleet *f, const struct agent_conf *a)
{
	static char buf[CGL_N][256];
	char v[32];
	int k;

	for (k = 0; k < CGL_N; k++) {
		bool want = k == CGL_MEMORY ? a->memory_max > 0 :
		    a->cpu_quota > 0;
		if (!want || f->cgl_root[k] != NULL)
			continue;
		if (k == CGL_MEMORY)
			format_size(a->memory_max, v, sizeof(v));
		else
			cpu_quota_format(a->cpu_quota, v, sizeof(v));
		snprintf(buf[k], sizeof(buf[k]), "%s = %s cannot be enforced: "
		    "%s", key_name[k], v, f->cgl_why[k]);
		return buf[k];
	}
	return NULL;
}

/* Write controller k's limit of agent a into dir.  0, or -1 (errno);
 * *file names what failed. */
static int
write_limit(int k, const struct agent_conf *a, const char *dir,
    const char **file)
{
	char v[32];

	if (k == CGL_MEMORY) {
		snprintf(v, sizeof(v), "%llu",
		    (unsigned long long)a->memory_max);
		*file = "memory.limit_in_bytes";
		return cgroup_put(dir, *file, v);
	}
	/* The period first: the quota is checked against it. */
	snprintf(v, sizeof(v), "%d", CPU_QUOTA_PERIOD_US);
	*file = "cpu.cfs_period_us";
	if (cgroup_put(dir, *file, v) == -1)
		return -1;
	snprintf(v, sizeof(v), "%llu", (unsigned long long)
	    cpu_quota_us(a->cpu_quota, CPU_QUOTA_PERIOD_US));
	*file = "cpu.cfs_quota_us";
	return cgroup_put(dir, *file, v);
}

int
cglimit_prepare(struct worker *w, char *procs[CGL_N], char *why,
    size_t len)
{
	const struct agent_conf *a = w->agent;
	const char *r, *file = NULL, *mk;
	char *dir;
	int k;

	for (k = 0; k < CGL_N; k++) {
		procs[k] = NULL;
		free(w->cgl_dir[k]);
		w->cgl_dir[k] = NULL;
	}
	w->oom_base = 0;
	if ((r = cglimit_unavailable(w->fleet, a)) != NULL) {
		snprintf(why, len, "%s", r);
		return -1;
	}
	for (k = 0; k < CGL_N; k++) {
		if (k == CGL_MEMORY ? a->memory_max == 0 : a->cpu_quota == 0)
			continue;
		xasprintf(&dir, "%s/%s", w->fleet->cgl_root[k], w->name);
		/* Named as made: the fleet's directory, then the run's. */
		if ((mkdir(mk = w->fleet->cgl_root[k], 0755) == -1 &&
		    errno != EEXIST) || (mkdir(mk = dir, 0755) == -1 &&
		    errno != EEXIST)) {
			snprintf(why, len, "%s: cannot make the cgroup %s: %s",
			    key_name[k], mk, strerror(errno));
			free(dir);
			goto fail;
		}
		w->cgl_dir[k] = dir;
		if (write_limit(k, a, dir, &file) == -1) {
			snprintf(why, len, "%s: cannot write %s/%s: %s",
			    key_name[k], dir, file, strerror(errno));
			goto fail;
		}
		if (k == CGL_MEMORY)
			w->oom_base = oom_count(dir);
		xasprintf(&procs[k], "%s/cgroup.procs", dir);
	}
	return 0;
fail:
	for (k = 0; k < CGL_N; k++) {
		free(procs[k]);
		procs[k] = NULL;
	}
	cglimit_ended(w);
	return -1;
}

uint64_t
cglimit_oom(const struct worker *w)
{
	uint64_t n;

	if (w->cgl_dir[CGL_MEMORY] == NULL)
		return 0;
	n = oom_count(w->cgl_dir[CGL_MEMORY]);
	return n > w->oom_base ? n - w->oom_base : 0;
}

void
cglimit_ended(struct worker *w)
{
	int k;

	for (k = 0; k < CGL_N; k++) {
		if (w->cgl_dir[k] == NULL)
			continue;
		(void)remove_dir(w->cgl_dir[k], NULL);
		free(w->cgl_dir[k]);
		w->cgl_dir[k] = NULL;
	}
}

/*
 * The instance directories no run holds: what an earlier corrald left, or
 * runs reaped meanwhile.  After a reexec, only once every run kept is
 * adopted: a run that died during the exec has an empty directory whose
 * OOM count says how it died.
 */
void
cglimit_sweep(struct fleet *f)
{
	struct dirent *d;
	char path[4200];
	DIR *dp;
	size_t i;
	bool held;
	int k;

	for (k = 0; k < CGL_N; k++) {
		if (f->cgl_root[k] == NULL ||
		    (dp = opendir(f->cgl_root[k])) == NULL)
			continue;
		while ((d = readdir(dp)) != NULL) {
			if (d->d_type != DT_DIR || d->d_name[0] == '.')
				continue;
			held = false;
			for (i = 0; i < f->nworkers && !held; i++)
				held = f->workers[i]->cgl_dir[k] != NULL &&
				    strcmp(f->workers[i]->name, d->d_name) == 0;
			snprintf(path, sizeof(path), "%s/%s", f->cgl_root[k],
			    d->d_name);
			if (!held && remove_dir(path, NULL) == -1 &&
			    errno != EBUSY)
				log_warn("cannot remove the cgroup %s", path);
		}
		closedir(dp);
		/* Made again at the next run that needs it. */
		(void)rmdir(f->cgl_root[k]);
	}
}

void
cglimit_adopted(struct worker *w)
{
	struct stat st;
	int k;

	for (k = 0; k < CGL_N; k++) {
		bool want = k == CGL_MEMORY ? w->agent->memory_max > 0 :
		    w->agent->cpu_quota > 0;
		free(w->cgl_dir[k]);
		w->cgl_dir[k] = NULL;
		if (!want || w->fleet->cgl_root[k] == NULL)
			continue;
		xasprintf(&w->cgl_dir[k], "%s/%s", w->fleet->cgl_root[k],
		    w->name);
		if (stat(w->cgl_dir[k], &st) == -1) {
			free(w->cgl_dir[k]);
			w->cgl_dir[k] = NULL;
		}
	}
	/*
	 * From now, unless the old image said what the count was at the
	 * run's start (worker_adopt): an older image does not.
	 */
	w->oom_base = w->cgl_dir[CGL_MEMORY] != NULL ?
	    oom_count(w->cgl_dir[CGL_MEMORY]) : 0;
}

void
cglimit_remove(struct fleet *f, const char *name)
{
	char path[4200];
	int k;

	for (k = 0; k < CGL_N; k++)
		if (f->cgl_root[k] != NULL) {
			snprintf(path, sizeof(path), "%s/%s", f->cgl_root[k],
			    name);
			(void)remove_dir(path, NULL);
		}
}

void
cglimit_free(struct fleet *f)
{
	/* Every run was reaped and what they left killed: a second at most
	 * for that to die, when no run is left. */
	uint64_t budget = f->live == 0 ? 1000 : 0;
	int k;

	for (k = 0; k < CGL_N; k++) {
		if (f->cgl_root[k] != NULL)
			remove_tree(f->cgl_root[k], &budget);
		free(f->cgl_root[k]);
		f->cgl_root[k] = NULL;
	}
}
