/*
 * history_size_bench.c - the size of the history (issue 16.13): a store of
 * N peers edited E times (one peer's keepalive each time, through
 * state_commit like the API and the CLI), then the bytes of the generations
 * table, of one whole state, and of atlas.db after VACUUM. Run by
 * bench/core.sh; prints figures, asserts nothing.
 *
 * usage: history_size_bench DATADIR N E
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "state/commit.h"
#include "state/store.h"
#include "state/yaml.h"

int main(int argc, char **argv)
{
	struct atlas_err err = { 0 };
	struct diags d = { 0 };
	struct buf y = BUF_INIT;
	struct store *s;
	struct atlas_state *st;
	sqlite3_stmt *q;
	int64_t gen = 0;
	long long hist = 0;
	struct stat sb;
	char *db;
	int n, e;

	if (argc != 4)
		return 2;
	n = atoi(argv[2]);
	e = atoi(argv[3]);
	if (store_open(argv[1], &s, &err) < 0)
		return fprintf(stderr, "%s\n", err.msg), 1;
	buf_printf(&y, "version: 1\nsettings:\n  host: vpn.example.com\n  history_keep: %d\n"
		       "wireguard:\n  interfaces:\n    - name: wg0\n      listen_port: 51820\n"
		       "      address: [10.100.0.1/16]\n      peers:\n",
		   e + 1);
	for (int i = 0; i < n; i++)
		buf_printf(&y, "        - name: peer%05d\n", i);
	if (state_import_yaml(s, y.data, y.len, "bench", &d, &gen, &err) < 0)
		return fprintf(stderr, "%s\n", err.msg), 1;
	for (int i = 0; i < e - 1; i++) {
		if (store_load(s, &st, NULL, &err) < 0)
			return fprintf(stderr, "%s\n", err.msg), 1;
		st->wireguard.interfaces[0].peers[(i * 7919) % n].keepalive = 10 + i % 50;
		if (state_commit(s, st, NULL, "bench", "edit", &d, &gen, &err) < 0)
			return fprintf(stderr, "%s\n", err.msg), 1;
		state_free(st);
	}
	buf_reset(&y);
	store_generation_yaml(s, gen, &y, NULL);
	/* the rows, and the newest text's pieces (state/store_text.c) */
	sqlite3_prepare_v2(store_db(s),
			   "SELECT (SELECT SUM(LENGTH(yaml)) FROM generations) + "
			   "(SELECT coalesce(SUM(LENGTH(body)), 0) FROM generation_text), "
			   "(SELECT COUNT(*) FROM generations)",
			   -1, &q, NULL);
	if (sqlite3_step(q) == SQLITE_ROW)
		hist = sqlite3_column_int64(q, 0);
	printf("history: %d peers, %lld generations: %lld bytes of history, one state %zu bytes\n",
	       n, (long long)sqlite3_column_int64(q, 1), hist, y.len);
	sqlite3_finalize(q);
	sqlite3_exec(store_db(s), "PRAGMA wal_checkpoint(TRUNCATE); VACUUM", NULL, NULL, NULL);
	store_close(s);
	db = xasprintf("%s/atlas.db", argv[1]);
	if (stat(db, &sb) == 0)
		printf("history: atlas.db %.1f MB after VACUUM\n", (double)sb.st_size / 1e6);
	free(db);
	buf_release(&y);
	return 0;
}
