/*
 * notify_socket.c: the NOTIFY_SOCKET corrald serves its workers.  One
 * AF_UNIX datagram socket in run_dir speaks the sd_notify protocol
 * (READY=1, WATCHDOG=1, STATUS=, STOPPING=1, CORRAL_ERROR= for a
 * structured error report and CORRAL_STORAGE= for a failure of the
 * checkpoint storage); notify.c is the other direction, corrald telling
 * its own service manager.
 *
 * Who sent a datagram is what the kernel says (SCM_CREDENTIALS, with
 * SO_PASSCRED on), never what the datagram says.  A non-root sender can
 * claim only its own pid; root (CAP_SYS_ADMIN) can claim any, so a process
 * running as root can speak for any worker: that is the kernel's rule, and
 * the same trust systemd gives root.  The sender is accepted if its pid is
 * a worker's main process, or if its process group is a worker's pid: a
 * worker leads its own session and group (spawn.c), a process outside
 * that session cannot join the group (setpgid(2)), and the group cannot
 * be recycled while its leader lives, so such a sender is the worker's own
 * child, as systemd's NotifyAccess=all accepts within a unit.
 *
 * Everything else (no credentials, an unknown sender, an oversized or
 * malformed datagram) is counted by reason and dropped, with a log line
 * per reason at most every LOG_EVERY_MS.  Reading is bounded per wakeup:
 * a flood cannot starve the loop.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>

#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "corrald.h"

#define DRAIN_MAX 64        /* datagrams per wakeup */
#define LOG_EVERY_MS 10000  /* one log line per reason this often at most */
#define REPORT_MSG_MAX 1024 /* a report's message, as kept */

struct nsock {
	struct fleet *fleet; /* borrowed */
	char *path;
	int fd;
	struct event *ev;
	uint64_t count[NS_NOUTCOME];
	uint64_t logged_ms[NS_NOUTCOME]; /* when a reason was last logged */
	uint64_t quiet[NS_NOUTCOME];     /* dropped since, not logged */
};

const char *
nsock_outcome_name(enum nsock_outcome o)
{
	switch (o) {
	case NS_ACCEPTED:
		return "accepted";
	case NS_UNKNOWN_SENDER:
		return "unknown_sender";
	case NS_NO_CREDENTIALS:
		return "no_credentials";
	case NS_MALFORMED:
		return "malformed";
	case NS_OVERSIZED:
		return "oversized";
	case NS_NOUTCOME:
		break;
	}
	return "?";
}

const char *
report_severity_name(enum report_severity s)
{
	switch (s) {
	case REP_INFO:
		return "info";
	case REP_WARNING:
		return "warning";
	case REP_ERROR:
		return "error";
	case REP_CRITICAL:
		return "critical";
	}
	return "?";
}

void
report_free(struct worker_report *r)
{
	if (r == NULL)
		return;
	free(r->code);
	free(r->message);
	free(r);
}

/*
 * SQLite's JSON functions read the report: a private in-memory connection,
 * opened on first use, so that no handwritten parser guesses at JSON.
 */
static sqlite3 *jdb;
static sqlite3_stmt *jst;

static int
json_open(void)
{
	static const char sql[] =
	    "SELECT json_type(?1), json_extract(?1, '$.severity'), "
	    "json_type(?1, '$.severity'), json_type(?1, '$.recoverable'), "
	    "json_extract(?1, '$.code'), json_type(?1, '$.code'), "
	    "json_extract(?1, '$.message'), json_type(?1, '$.message')";

	if (jst != NULL)
		return 0;
	if (sqlite3_open_v2(":memory:", &jdb, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_MEMORY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(jdb, sql, -1, &jst, NULL) != SQLITE_OK) {
		log_warnx("notify socket: cannot prepare the JSON reader: %s",
		    jdb != NULL ? sqlite3_errmsg(jdb) : "out of memory");
		sqlite3_close(jdb);
		jdb = NULL;
		return -1;
	}
	return 0;
}

void
report_parser_close(void)
{
	sqlite3_finalize(jst);
	sqlite3_close(jdb);
	jst = NULL;
	jdb = NULL;
}

static const char *
col_text(int i)
{
	const unsigned char *s = sqlite3_column_text(jst, i);

	return s != NULL ? (const char *)s : "";
}

int
report_parse(const char *json, size_t len, struct worker_report **out,
    const char **why)
{
	struct worker_report *r;
	const char *sev, *t;
	int rc;

	*out = NULL;
	if (json_open() == -1) {
		*why = "no JSON reader";
		return -1;
	}
	sqlite3_reset(jst);
	sqlite3_bind_text(jst, 1, json, (int)len, SQLITE_TRANSIENT);
	rc = sqlite3_step(jst);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(jst);
		*why = "not JSON";
		return -1;
	}
	if (strcmp(col_text(0), "object") != 0) {
		*why = "not a JSON object";
		goto bad;
	}
	if (strcmp(col_text(2), "text") != 0) {
		*why = "severity: not a string";
		goto bad;
	}
	r = xcalloc(1, sizeof(*r));
	sev = col_text(1);
	if (strcmp(sev, "info") == 0)
		r->severity = REP_INFO;
	else if (strcmp(sev, "warning") == 0)
		r->severity = REP_WARNING;
	else if (strcmp(sev, "error") == 0)
		r->severity = REP_ERROR;
	else if (strcmp(sev, "critical") == 0)
		r->severity = REP_CRITICAL;
	else {
		*why = "severity: not info, warning, error or critical";
		goto badr;
	}
	t = col_text(3);
	if (strcmp(t, "true") == 0)
		r->recoverable = true;
	else if (strcmp(t, "false") == 0)
		r->recoverable = false;
	else {
		*why = "recoverable: not true or false";
		goto badr;
	}
	t = col_text(5);
	if (strcmp(t, "text") != 0 && strcmp(t, "integer") != 0) {
		*why = "code: not a string or an integer";
		goto badr;
	}
	r->code = xstrdup(col_text(4));
	if (strcmp(col_text(7), "text") != 0) {
		*why = "message: not a string";
		goto badr;
	}
	r->message = xstrndup(col_text(6), REPORT_MSG_MAX);
	sqlite3_reset(jst);
	*out = r;
	return 0;
badr:
	report_free(r);
bad:
	sqlite3_reset(jst);
	return -1;
}

/*
 * Check a datagram and fill m, its strings pointing into buf (which it
 * NUL-terminates line by line).  Unknown keys are ignored, as systemd does;
 * a NUL byte, a line without '=' or a bad CORRAL_ERROR is malformed.
 * Returns 0, or -1 with the reason in *why (static).
 */
int
notify_parse(char *buf, size_t len, struct notify_msg *m, const char **why)
{
	char *line, *nl, *end = buf + len;

	memset(m, 0, sizeof(*m));
	if (memchr(buf, '\0', len) != NULL) {
		*why = "a NUL byte";
		return -1;
	}
	for (line = buf; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		*nl = '\0';
		if (*line == '\0')
			continue;
		if (strchr(line, '=') == NULL) {
			*why = "a line without '='";
			report_free(m->report);
			m->report = NULL;
			return -1;
		}
		if (strcmp(line, "READY=1") == 0)
			m->ready = true;
		else if (strcmp(line, "WATCHDOG=1") == 0)
			m->watchdog = true;
		else if (strcmp(line, "STOPPING=1") == 0)
			m->stopping = true;
		else if (strncmp(line, "STATUS=", 7) == 0)
			m->status = line + 7;
		else if (strncmp(line, "CORRAL_STORAGE=", 15) == 0) {
			/* KIND, or KIND: MESSAGE */
			const char *v = line + 15;
			size_t k = strcspn(v, ":");
			if (storage_kind_parse(v, k, &m->storage) == -1) {
				*why = "CORRAL_STORAGE: not io, full, damaged "
				    "or moved";
				report_free(m->report);
				m->report = NULL;
				return -1;
			}
			v += k;
			if (*v == ':')
				v++;
			while (*v == ' ')
				v++;
			m->storage_msg = v;
		} else if (strncmp(line, "CORRAL_ERROR=", 13) == 0) {
			report_free(m->report);
			m->report = NULL;
			if (report_parse(line + 13, strlen(line + 13),
			    &m->report, why) == -1)
				return -1;
		}
	}
	return 0;
}

static void
drop(struct nsock *ns, enum nsock_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Count a datagram; log it unless this reason was logged lately. */
static void
drop(struct nsock *ns, enum nsock_outcome o, const char *fmt, ...)
{
	uint64_t now = now_mono_ms();
	char msg[256];
	va_list ap;

	ns->count[o]++;
	if (ns->logged_ms[o] != 0 && now - ns->logged_ms[o] < LOG_EVERY_MS) {
		ns->quiet[o]++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ns->quiet[o] > 0)
		log_warnx("notify socket: dropped a datagram (%s): %s; %llu "
		    "more dropped for this reason since the last such line",
		    nsock_outcome_name(o), msg,
		    (unsigned long long)ns->quiet[o]);
	else
		log_warnx("notify socket: dropped a datagram (%s): %s",
		    nsock_outcome_name(o), msg);
	ns->logged_ms[o] = now;
	ns->quiet[o] = 0;
}

/* The process group of pid, or -1 (it is gone, or not ours to see). */
static pid_t
pgid_of(pid_t pid)
{
	pid_t g = getpgid(pid);

	return g > 0 ? g : -1;
}

static struct worker *
sender_worker(struct fleet *f, pid_t pid)
{
	struct worker *w;
	pid_t g;

	if (pid <= 0)
		return NULL;
	if ((w = fleet_find_pid(f, pid)) != NULL)
		return w;
	if ((g = pgid_of(pid)) == -1)
		return NULL;
	return fleet_find_pid(f, g);
}

/* Close descriptors a sender passed along: we never take any. */
static void
close_rights(struct msghdr *mh)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int *fds = (int *)CMSG_DATA(c);
			size_t i, n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (i = 0; i < n; i++)
				close(fds[i]);
		}
	}
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct nsock *ns = arg;
	char buf[NOTIFY_MAX + 1];
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(struct ucred)) +
		    CMSG_SPACE(16 * sizeof(int))];
	} cbuf;
	struct notify_msg m;
	const char *why;
	int n;

	(void)what;
	for (n = 0; n < DRAIN_MAX; n++) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh;
		struct cmsghdr *c;
		struct ucred *cred = NULL;
		struct worker *w;
		ssize_t got;

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf.b;
		mh.msg_controllen = sizeof(cbuf.b);
		got = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC |
		    MSG_TRUNC);
		if (got == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("notify socket %s: recvmsg", ns->path);
			return;
		}
		close_rights(&mh);
		for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_CREDENTIALS &&
			    c->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
				cred = (struct ucred *)CMSG_DATA(c);
		if (cred == NULL) {
			drop(ns, NS_NO_CREDENTIALS, "no sender credentials");
			continue;
		}
		if ((w = sender_worker(ns->fleet, cred->pid)) == NULL) {
			drop(ns, NS_UNKNOWN_SENDER, "pid %ld is no worker nor "
			    "in a worker's process group", (long)cred->pid);
			continue;
		}
		if ((size_t)got > NOTIFY_MAX || (mh.msg_flags & MSG_TRUNC)) {
			drop(ns, NS_OVERSIZED, "%zd bytes from agent %s (pid "
			    "%ld); at most %d", got, w->name, (long)cred->pid,
			    NOTIFY_MAX);
			continue;
		}
		if (notify_parse(buf, (size_t)got, &m, &why) == -1) {
			drop(ns, NS_MALFORMED, "from agent %s (pid %ld): %s",
			    w->name, (long)cred->pid, why);
			continue;
		}
		ns->count[NS_ACCEPTED]++;
		/* The worker takes the report. */
		worker_notified(w, cred->pid, &m);
	}
}

void
nsock_drain(struct nsock *ns)
{
	if (ns != NULL)
		read_cb(ns->fd, EV_READ, ns);
}

static int
uid_cmp(const void *a, const void *b)
{
	uid_t x = *(const uid_t *)a, y = *(const uid_t *)b;

	return x < y ? -1 : x > y;
}

static struct posix_acl_xattr_entry *
acl_put(struct posix_acl_xattr_entry *e, int tag, int perm, uint32_t id)
{
	e->e_tag = htole16((uint16_t)tag);
	e->e_perm = htole16((uint16_t)perm);
	e->e_id = htole32(id);
	return e + 1;
}

/*
 * Workers running as another user must be able to send, and nobody else
 * needs to: the socket gets a POSIX access ACL that lets those users write
 * (mode 0620: the group bits show the ACL's mask) and others nothing.
 * Where the file system takes no ACL, it is open to everyone (0622); a
 * stranger's datagram is then read, counted and dropped.
 */
void
nsock_fit_mode(struct nsock *ns, const struct config *c)
{
	struct posix_acl_xattr_header *h;
	struct posix_acl_xattr_entry *e;
	uid_t *uids = xcalloc(c->nagents + 1, sizeof(*uids));
	size_t i, n = 0, k, len;

	for (i = 0; i < c->nagents; i++)
		if (c->agents[i].user != NULL && c->agents[i].uid != geteuid())
			uids[n++] = c->agents[i].uid;
	if (n == 0) {
		(void)removexattr(ns->path, "system.posix_acl_access");
		if (chmod(ns->path, 0600) == -1)
			log_warn("notify socket %s: chmod", ns->path);
		free(uids);
		return;
	}
	qsort(uids, n, sizeof(*uids), uid_cmp);
	for (i = 1, k = 1; i < n; i++)
		if (uids[i] != uids[k - 1])
			uids[k++] = uids[i];
	len = sizeof(*h) + (k + 4) * sizeof(*e);
	h = xcalloc(1, len);
	h->a_version = htole32(POSIX_ACL_XATTR_VERSION);
	e = acl_put((struct posix_acl_xattr_entry *)(h + 1), ACL_USER_OBJ,
	    ACL_READ | ACL_WRITE, (uint32_t)ACL_UNDEFINED_ID);
	for (i = 0; i < k; i++)
		e = acl_put(e, ACL_USER, ACL_WRITE, (uint32_t)uids[i]);
	e = acl_put(e, ACL_GROUP_OBJ, 0, (uint32_t)ACL_UNDEFINED_ID);
	e = acl_put(e, ACL_MASK, ACL_WRITE, (uint32_t)ACL_UNDEFINED_ID);
	(void)acl_put(e, ACL_OTHER, 0, (uint32_t)ACL_UNDEFINED_ID);
	if (setxattr(ns->path, "system.posix_acl_access", h, len, 0) == -1) {
		log_warn("notify socket %s: cannot let only the agents' users "
		    "send (a POSIX ACL); anyone may send to it, and a "
		    "stranger's datagrams are dropped", ns->path);
		if (chmod(ns->path, 0622) == -1)
			log_warn("notify socket %s: chmod", ns->path);
	}
	free(h);
	free(uids);
}

struct nsock *
nsock_adopt(struct fleet *f, const char *path, int fd)
{
	struct nsock *ns = xcalloc(1, sizeof(*ns));
	int on = 1;

	ns->fleet = f;
	ns->path = xstrdup(path);
	ns->fd = fd;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	/* Set again: an old image's socket may predate it. */
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == -1)
		log_warn("notify socket %s: SO_PASSCRED", path);
	ns->ev = event_new(f->base, fd, EV_READ | EV_PERSIST, read_cb, ns);
	if (ns->ev == NULL || event_add(ns->ev, NULL) == -1)
		fatal("notify socket %s: cannot watch it", path);
	nsock_fit_mode(ns, f->conf);
	return ns;
}

struct nsock *
nsock_open(struct fleet *f, const char *path)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd, on = 1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("notify socket %s: path too long", path);
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		log_warn("notify socket %s", path);
		return NULL;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == -1) {
		log_warn("notify socket %s: SO_PASSCRED", path);
		close(fd);
		return NULL;
	}
	/* We hold the state database's lock: what is there is a dead one's. */
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("cannot remove stale notify socket %s", path);
		close(fd);
		return NULL;
	}
	old = umask(0077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		log_warn("cannot bind notify socket %s", path);
		close(fd);
		return NULL;
	}
	umask(old);
	return nsock_adopt(f, path, fd);
}

int
nsock_fd(const struct nsock *ns)
{
	return ns != NULL ? ns->fd : -1;
}

const char *
nsock_path(const struct nsock *ns)
{
	return ns != NULL ? ns->path : NULL;
}

uint64_t
nsock_count(const struct nsock *ns, enum nsock_outcome o)
{
	return ns != NULL ? ns->count[o] : 0;
}

void
nsock_close(struct nsock *ns)
{
	if (ns == NULL)
		return;
	event_free(ns->ev);
	close(ns->fd);
	unlink(ns->path);
	free(ns->path);
	free(ns);
	report_parser_close();
}
