/*
 * replay.c: the main of a harness built without libFuzzer.  It runs
 * LLVMFuzzerTestOneInput over every file named, and every file of every
 * directory named, all in one child process; when that child fails (a
 * crash, a sanitizer's report, a leak found as it exits, a hang), each
 * input again in a child of its own, so that the failure names its input.
 * Each input is in a buffer of exactly its size: reading past it is an
 * error the sanitizers see.
 *
 * usage: fuzz_NAME [-t SECONDS] PATH...
 * Exits 0 when every input passed, 1 when one failed, 2 on a usage or
 * read error.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static const char *prog;
static unsigned timeout_s = 10; /* libFuzzer's -timeout of make fuzz */
static unsigned nfailed;

/* The whole file at path, in a buffer of exactly its size (caller
 * frees).  -1 on a read error, said. */
static int
slurp(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	ssize_t got;
	size_t off = 0;
	int fd;

	*buf = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	/* As libFuzzer does, even an empty input is at an address. */
	if ((*buf = malloc((size_t)st.st_size)) == NULL && st.st_size > 0) {
		fprintf(stderr, "%s: %s: out of memory\n", prog, path);
		close(fd);
		return -1;
	}
	while (off < (size_t)st.st_size) {
		got = read(fd, *buf + off, (size_t)st.st_size - off);
		if (got <= 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, path,
			    got == 0 ? "shorter than its size" :
			    strerror(errno));
			free(*buf);
			close(fd);
			return -1;
		}
		off += (size_t)got;
	}
	close(fd);
	*len = off;
	return 0;
}

static char **paths;
static size_t npaths, cappaths;

static void
add_path(const char *path)
{
	if (npaths == cappaths) {
		cappaths = cappaths ? cappaths * 2 : 64;
		if ((paths = realloc(paths, cappaths * sizeof(*paths))) == NULL)
			abort();
	}
	if ((paths[npaths++] = strdup(path)) == NULL)
		abort();
}

/* Run inputs [from, to) in a child; its wait status, or -1 said. */
static int
in_child(size_t from, size_t to)
{
	uint8_t *buf;
	size_t i, len;
	pid_t pid;
	int st;

	fflush(NULL);
	if ((pid = fork()) == -1) {
		fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		for (i = from; i < to; i++) {
			if (slurp(paths[i], &buf, &len) == -1)
				exit(2);
			alarm(timeout_s);
			LLVMFuzzerTestOneInput(buf, len);
			free(buf);
		}
		/* exit, not _exit: the leak check runs at exit. */
		exit(0);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			fprintf(stderr, "%s: waitpid: %s\n", prog,
			    strerror(errno));
			return -1;
		}
	return st;
}

/* One input, alone: 0 if it passed, else 1 and the reason said. */
static int
run_one(const char *path, size_t i)
{
	int st = in_child(i, i + 1);

	if (st == 0)
		return 0;
	nfailed++;
	if (st == -1)
		fprintf(stderr, "%s: FAILED on %s: could not run it\n", prog,
		    path);
	else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
		fprintf(stderr, "%s: FAILED on %s: still running after %u s\n",
		    prog, path, timeout_s);
	else if (WIFSIGNALED(st))
		fprintf(stderr, "%s: FAILED on %s: killed by signal %d (%s)\n",
		    prog, path, WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		fprintf(stderr, "%s: FAILED on %s: exit status %d\n", prog,
		    path, WEXITSTATUS(st));
	return 1;
}

static int
dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Every file of dir, in name order.  -1 if it cannot be read. */
static int
add_dir(const char *dir)
{
	struct dirent **ents;
	char path[4096];
	int i, n;

	if ((n = scandir(dir, &ents, dot, alphasort)) == -1) {
		fprintf(stderr, "%s: %s: %s\n", prog, dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		add_path(path);
		free(ents[i]);
	}
	free(ents);
	return 0;
}

int
main(int argc, char **argv)
{
	struct stat st;
	char *end;
	size_t i;
	int ch, bad = 0;

	prog = (prog = strrchr(argv[0], '/')) != NULL ? prog + 1 : argv[0];
	while ((ch = getopt(argc, argv, "t:")) != -1) {
		switch (ch) {
		case 't':
			timeout_s = (unsigned)strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || timeout_s == 0) {
				fprintf(stderr, "%s: -t takes seconds\n", prog);
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: %s [-t SECONDS] PATH...\n",
			    prog);
			return 2;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "usage: %s [-t SECONDS] PATH...\n", prog);
		return 2;
	}
	for (; optind < argc; optind++) {
		if (stat(argv[optind], &st) == -1) {
			fprintf(stderr, "%s: %s: %s\n", prog, argv[optind],
			    strerror(errno));
			bad = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (add_dir(argv[optind]) == -1)
				bad = 1;
		} else
			add_path(argv[optind]);
	}
	/* All at once; one by one only to find which failed. */
	if (npaths > 0 && in_child(0, npaths) != 0) {
		fprintf(stderr, "%s: the inputs failed together; replaying "
		    "them one by one\n", prog);
		for (i = 0; i < npaths; i++)
			run_one(paths[i], i);
		/* Together only: the one input cannot be named. */
		if (nfailed == 0) {
			fprintf(stderr, "%s: FAILED on the inputs together, "
			    "none alone\n", prog);
			nfailed++;
		}
	}
	printf("%s: %zu input%s replayed, %u failed\n", prog, npaths,
	    npaths == 1 ? "" : "s", nfailed);
	for (i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
	return nfailed > 0 ? 1 : bad ? 2 : 0;
}
