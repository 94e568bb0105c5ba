/*
 * fuzz_config.c: the fleet file, as `corrald --check` and a reload take it:
 * any bytes through config_load_text (the INI reader, every key's parser,
 * the checks across sections and the resolution of paths, users and
 * %() expansions), then, for a file that loads, config_print (what
 * --check prints) and a load of what it printed.
 */
#include <stdlib.h>
#include <string.h>

#include "corrald.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs, again_errs;
	struct config *c, *again;
	char *out = NULL;
	size_t outlen = 0, i;
	FILE *f;
	bool bundle = size >= 17 && memcmp(data, ";corral-bundle 1\n", 17) ==
	    0;

	c = config_load_text("fuzz.ini", "/fuzz", (const char *)data, size,
	    &errs);
	/* A file loads, or says why not: never both, never neither. */
	FUZZ_CHECK((c == NULL) == (errs.msgs.n > 0));
	/* A message names the file, or one [include] made absolute; a
	 * bundle (what corrald keeps of a fleet with includes) any of its. */
	for (i = 0; i < errs.msgs.n && !bundle; i++)
		FUZZ_CHECK(strncmp(errs.msgs.v[i], "fuzz.ini", 8) == 0 ||
		    errs.msgs.v[i][0] == '/');
	strv_free(&errs.msgs);
	if (c == NULL)
		return 0;
	/* The bytes are kept, but for the texts of included files. */
	FUZZ_CHECK((c->textlen == size && memcmp(c->text, data, size) == 0) ||
	    strncmp(c->text, ";corral-bundle 1\n", 17) == 0);
	for (i = 0; i < c->nagents; i++) {
		FUZZ_CHECK(c->agents[i].numprocs > 0);
		FUZZ_CHECK(c->agents[i].argv.n > 0);
	}
	if ((f = open_memstream(&out, &outlen)) == NULL)
		abort();
	config_print(c, f);
	if (fclose(f) != 0)
		abort();
	/*
	 * Only exercised: whether the output loads back the same is a unit
	 * test's question (test_config), asked of every good fixture.
	 */
	again = config_load_text("fuzz.ini", "/fuzz", out, outlen,
	    &again_errs);
	strv_free(&again_errs.msgs);
	config_free(again);
	free(out);
	config_free(c);
	return 0;
}
