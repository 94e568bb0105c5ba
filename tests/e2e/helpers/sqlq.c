/*
 * sqlq: run one SQL query on a database, read-only, and print its rows with
 * columns separated by '|' (NULL prints as empty), like the sqlite3 shell.
 *
 * usage: sqlq DB SQL
 */
#include <stdio.h>

#include <sqlite3.h>

int
main(int argc, char **argv)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int rc, i, n;

	if (argc != 3) {
		fprintf(stderr, "usage: sqlq DB SQL\n");
		return 2;
	}
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
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
