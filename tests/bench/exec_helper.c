/*
 * bench_clone's stand-in for an exec helper: what a spawner that cannot
 * set everything through posix_spawn would exec first, to do the rest and
 * then exec the worker.  Built static.
 */
#include <unistd.h>

extern char **environ;

int
main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	execve(argv[1], argv + 1, environ);
	return 127;
}
