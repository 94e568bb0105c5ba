/*
 * fuzz_notify.c: a datagram on the workers' NOTIFY_SOCKET, as
 * notify_socket.c takes it once the sender is known to be a worker: any
 * bytes up to NOTIFY_MAX through notify_parse (the sd_notify lines and a
 * CORRAL_ERROR report's JSON), in a buffer of the datagram's size and the
 * one byte the parser may write after it.
 */
#include <stdlib.h>
#include <string.h>

#include "corrald.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct notify_msg m;
	const char *why;
	char *buf;

	/* Longer datagrams are dropped before they are parsed. */
	if (size > NOTIFY_MAX)
		return 0;
	if ((buf = malloc(size + 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	if (notify_parse(buf, size, &m, &why) == -1) {
		FUZZ_CHECK(why != NULL && why[0] != '\0');
		free(buf);
		return 0;
	}
	/* Whatever was kept must read back whole, inside the datagram. */
	if (m.status != NULL) {
		FUZZ_CHECK(m.status >= buf && m.status < buf + size + 1);
		FUZZ_CHECK(strlen(m.status) <= size);
	}
	if (m.report != NULL) {
		FUZZ_CHECK(m.report->code != NULL && m.report->message != NULL);
		FUZZ_CHECK(strlen(m.report->message) <= 1024);
		FUZZ_CHECK(report_severity_name(m.report->severity)[0] != '?');
		FUZZ_CHECK(strlen(m.report->code) <= size);
		report_free(m.report);
	}
	free(buf);
	return 0;
}
