/*
 * fuzz.h: what every harness in tests/fuzz defines.  Built with libFuzzer
 * (make fuzz) it is called with each input the fuzzer makes; built with
 * replay.c (make check), with each file of its corpus.  It returns 0 and
 * keeps nothing from one input to the next but caches that stay reachable.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * An invariant of the code under test.  When it fails: say which, and
 * abort, so that the fuzzer keeps the input as a crash.  Unlike assert(),
 * never compiled out.
 */
#define FUZZ_CHECK(cond)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",  \
			    __FILE__, __LINE__, #cond);                   \
			abort();                                          \
		}                                                         \
	} while (0)

#endif /* FUZZ_H */
