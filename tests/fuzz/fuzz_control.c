/*
 * fuzz_control.c: the control socket's request line, as control.c reads
 * it: any bytes through ctl_parse (the length and NUL checks, the shell
 * quoting, the command, its options and the syntax of its targets), and
 * what it promises of a request it accepts.
 */
#include <string.h>

#include "corrald.h"
#include "fuzz.h"

static bool
is_view(enum ctl_cmd cmd)
{
	return cmd == CMD_EVENTS || cmd == CMD_HISTORY || cmd == CMD_TAIL ||
	    cmd == CMD_CHECKPOINTS || cmd == CMD_LOG;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[CTL_LINE_MAX + 256];
	struct ctl_request r;
	size_t i;

	if (ctl_parse((const char *)data, size, &r, why, sizeof(why)) == -1) {
		FUZZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL);
		FUZZ_CHECK(why[0] != '\0');
		FUZZ_CHECK(r.targets == NULL && r.words.v == NULL);
		return 0;
	}
	FUZZ_CHECK(size <= CTL_LINE_MAX);
	FUZZ_CHECK(r.words.n >= 2 && strcmp(r.words.v[0], CTL_PROTO) == 0);
	for (i = 0; i < r.ntargets; i++) {
		const struct ctl_target *t = &r.targets[i];
		size_t len = strlen(t->word);

		FUZZ_CHECK(t->namelen <= len);
		FUZZ_CHECK(t->word[t->namelen] == '\0' ||
		    t->word[t->namelen] == ':');
		FUZZ_CHECK((t->instance >= 0) == (t->word[t->namelen] == ':'));
		if (is_view(r.cmd)) {
			/* control.c copies a view's name into a name buffer. */
			FUZZ_CHECK(t->namelen >= 1 &&
			    t->namelen <= NAME_MAX_LEN);
			FUZZ_CHECK(t->instance <= 100000);
		}
	}
	switch (r.cmd) {
	case CMD_START:
	case CMD_STOP:
	case CMD_RESTART:
	case CMD_HISTORY:
	case CMD_CHECKPOINTS:
		FUZZ_CHECK(r.ntargets >= 1);
		break;
	case CMD_TAIL:
		FUZZ_CHECK(!(r.err && r.all_streams));
		break;
	case CMD_STATUS:
		/* Only the states' bits and the filter's two. */
		FUZZ_CHECK((r.states & ~(CTL_STATE_HELD | CTL_STATE_FAILED |
		    (CTL_STATE(W_LAST + 1) - 1))) == 0);
		FUZZ_CHECK((r.states & CTL_STATE(W_HELD)) == 0);
		break;
	case CMD_RESET:
		FUZZ_CHECK(r.ntargets == 1 && r.reason != NULL);
		break;
	case CMD_EVENTS:
		FUZZ_CHECK(r.ntargets <= 1);
		break;
	case CMD_LOG:
		FUZZ_CHECK(r.ntargets == 0 && !r.err);
		break;
	case CMD_SCALE:
		/* One agent by name, a count corrald can make room for. */
		FUZZ_CHECK(r.ntargets == 1 && r.targets[0].instance == -1);
		FUZZ_CHECK(r.targets[0].namelen <= NAME_MAX_LEN);
		FUZZ_CHECK(strcmp(r.targets[0].word, "all") != 0);
		FUZZ_CHECK(r.count >= 1 && r.count <= SCALE_MAX);
		break;
	default:
		break;
	}
	if (r.rolling) {
		/* restart --rolling: one agent by name, no instance. */
		FUZZ_CHECK(r.cmd == CMD_RESTART && r.ntargets == 1);
		FUZZ_CHECK(r.targets[0].instance == -1);
		FUZZ_CHECK(r.targets[0].namelen <= NAME_MAX_LEN);
		FUZZ_CHECK(strcmp(r.targets[0].word, "all") != 0);
	}
	if (r.dry_run)
		FUZZ_CHECK(r.cmd == CMD_RELOAD);
	if (is_view(r.cmd))
		FUZZ_CHECK(r.limit <= 100000);
	ctl_request_free(&r);
	return 0;
}
