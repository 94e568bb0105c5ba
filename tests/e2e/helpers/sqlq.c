/*
 * sqlq: run one SQL statement on a database, read-only unless -w, and print
 * its rows with columns separated by '|' (NULL prints as empty), like the
 * sqlite3 shell.  -w is for a test that edits what corrald will read (a
 * stored boot id, to pass for a reboot); never while corrald runs.
 *
 * usage: sqlq [-w] DB SQL
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

int
main(int argc, char **argv)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int rc, i, n, flags = SQLITE_OPEN_READONLY;

	if (argc == 4 && strcmp(argv[1], "-w") == 0) {
		flags = SQLITE_OPEN_READWRITE;
		argc--;
		argv++;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: sqlq [-w] DB SQL\n");
		return 2;
	}
	if (sqlite3_open_v2(argv[1], &db, flags, NULL) != SQLITE_OK) {
		fprintf(stderr, "sqlq: %s: %s\n", argv[1], sqlite3_errmsg(db));
		return 2;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, argv[2], -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "sqlq: %s\n", sqlite3_errmsg(db));
		return 2;
	}
	n = sqlite3_column_count(st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < n; i++) {
			const unsigned char *t = sqlite3_column_text(st, i);
			printf("%s%s", i ? "|" : "", t ? (const char *)t : "");
		}
		putchar('\n');
	}
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "sqlq: %s\n", sqlite3_errmsg(db));
		return 2;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return 0;
}
