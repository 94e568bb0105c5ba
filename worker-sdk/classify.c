/*
 * classify.c: the one place that decides what an ended run means.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "corral.h"

void
corral_codeset_clear(struct corral_codeset *s)
{
	memset(s, 0, sizeof(*s));
}

void
corral_codeset_add(struct corral_codeset *s, unsigned code)
{
	if (code < 256)
		s->bits[code / 64] |= 1ULL << (code % 64);
}

bool
corral_codeset_has(const struct corral_codeset *s, unsigned code)
{
	return code < 256 && (s->bits[code / 64] >> (code % 64) & 1);
}

bool
corral_codeset_empty(const struct corral_codeset *s)
{
	return (s->bits[0] | s->bits[1] | s->bits[2] | s->bits[3]) == 0;
}

void
corral_exit_policy_default(struct corral_exit_policy *p)
{
	corral_codeset_clear(&p->success);
	corral_codeset_clear(&p->transient);
	corral_codeset_clear(&p->fatal);
	corral_codeset_add(&p->success, 0);
	corral_codeset_add(&p->transient, 75);
	corral_codeset_add(&p->fatal, 64);
	corral_codeset_add(&p->fatal, 78);
}

/*
 * The order of the tests is the order of precedence: what the supervisor
 * knows for certain (exec failed, it asked for the stop, it killed a hung
 * worker) outranks what the exit status suggests.  A storage error the
 * worker reported outranks what its exit code would say, except an
 * explicit success or fatal code; 74 (EX_IOERR) means storage unless the
 * agent listed it itself.  A signal is no storage error: what killed the
 * worker was something else.
 */
enum corral_exit_class
corral_classify(const struct corral_exit_policy *p,
    const struct corral_exit_facts *f)
{
	int code;

	if (f->exec_failed)
		return CORRAL_EXIT_FATAL;
	if (f->stop_requested)
		return CORRAL_EXIT_STOPPED;
	if (f->hang)
		return CORRAL_EXIT_HANG;
	if (f->memory)
		return CORRAL_EXIT_MEMORY;
	if (f->reported_fatal)
		return CORRAL_EXIT_FATAL;
	if (WIFSIGNALED(f->status)) {
		if (WTERMSIG(f->status) == SIGKILL)
			return CORRAL_EXIT_KILLED;
		return CORRAL_EXIT_CRASH;
	}
	code = WEXITSTATUS(f->status);
	if (corral_codeset_has(&p->fatal, (unsigned)code))
		return CORRAL_EXIT_FATAL;
	if (corral_codeset_has(&p->success, (unsigned)code))
		return CORRAL_EXIT_SUCCESS;
	if (f->storage_error)
		return CORRAL_EXIT_STORAGE;
	if (corral_codeset_has(&p->transient, (unsigned)code))
		return CORRAL_EXIT_TRANSIENT;
	if (code == CORRAL_EX_IOERR)
		return CORRAL_EXIT_STORAGE;
	return CORRAL_EXIT_ERROR;
}

const char *
corral_exit_class_name(enum corral_exit_class c)
{
	switch (c) {
	case CORRAL_EXIT_NONE:
		return "none";
	case CORRAL_EXIT_SUCCESS:
		return "success";
	case CORRAL_EXIT_TRANSIENT:
		return "transient";
	case CORRAL_EXIT_ERROR:
		return "error";
	case CORRAL_EXIT_CRASH:
		return "crash";
	case CORRAL_EXIT_KILLED:
		return "killed";
	case CORRAL_EXIT_HANG:
		return "hang";
	case CORRAL_EXIT_FATAL:
		return "fatal";
	case CORRAL_EXIT_STOPPED:
		return "stopped";
	case CORRAL_EXIT_STORAGE:
		return "storage";
	case CORRAL_EXIT_MEMORY:
		return "memory";
	}
	return "unknown";
}

bool
corral_exit_is_failure(enum corral_exit_class c)
{
	switch (c) {
	case CORRAL_EXIT_TRANSIENT:
	case CORRAL_EXIT_ERROR:
	case CORRAL_EXIT_CRASH:
	case CORRAL_EXIT_KILLED:
	case CORRAL_EXIT_HANG:
	case CORRAL_EXIT_FATAL:
	case CORRAL_EXIT_STORAGE:
	case CORRAL_EXIT_MEMORY:
		return true;
	default:
		return false;
	}
}
