/*
 * notify.c: the sd_notify protocol, client side: one datagram per message
 * to the socket named by NOTIFY_SOCKET, as systemd's Type=notify expects.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corrald.h"

static struct sockaddr_un notify_addr;
static socklen_t notify_len; /* 0: no service manager listens */

void
notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n;

	if (path == NULL || *path == '\0')
		return;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') ||
	    n >= sizeof(notify_addr.sun_path)) {
		log_warnx("NOTIFY_SOCKET '%s' is not a socket path; not "
		    "notifying", path);
	} else {
		memset(&notify_addr, 0, sizeof(notify_addr));
		notify_addr.sun_family = AF_UNIX;
		memcpy(notify_addr.sun_path, path, n);
		if (path[0] == '@') /* the abstract namespace */
			notify_addr.sun_path[0] = '\0';
		notify_len = (socklen_t)(offsetof(struct sockaddr_un,
		    sun_path) + n);
	}
	/* It is corrald's: a worker that used it would confuse systemd. */
	unsetenv("NOTIFY_SOCKET");
}

void
notify_send(const char *msg)
{
	int fd;

	if (notify_len == 0)
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&notify_addr, notify_len) == -1)
		log_warn("cannot tell the service manager '%s'", msg);
	if (fd != -1)
		close(fd);
}
