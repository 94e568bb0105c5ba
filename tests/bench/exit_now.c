/* The worker of bench_clone: exits at once.  Built static (no loader). */
#include <unistd.h>

int
main(void)
{
	_exit(0);
}
