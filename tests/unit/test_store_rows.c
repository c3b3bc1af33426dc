/*
 * test_store_rows.c - a save writes only the rows that changed (the row
 * ids of the others kept): one field is one row; additions, removals and
 * renames; a section removed and added again; a failed save rolled back;
 * unsorted lists.
 */
#include "store_fx.h"

#include "state/schema.h"

/* A case on a store holding merge_yaml (merge_setup). */
#define MERGE_TEST(f) cmocka_unit_test_setup_teardown(f, merge_setup, tu_store_teardown)

static const char merge_yaml[] =
	"version: 1\nsettings: {host: vpn.example.com}\n"
	"wireguard:\n  interfaces:\n"
	"    - {name: wg0, listen_port: 51820, address: [10.8.0.1/24],\n"
	"       peers: [{name: alice}, {name: bob}, {name: dave}]}\n"
	"    - {name: wg1, listen_port: 51821, address: [10.7.0.1/24],\n"
	"       peers: [{name: alice}, {name: erin}]}\n"
	"openvpn:\n  network: 10.9.0.0/24\n"
	"  clients: [{name: carol, static_ip: 10.9.0.10}, {name: frank}]\n"
	"singbox:\n  inbounds: [{name: in1, type: vless, port: 8443, server_name: example.com,\n"
	"              users: [{name: u1}, {name: u2}]}]\n";

/*
 * Every row of the state tables as "table parent/name id", one a line,
 * sorted: the ids show which rows were rewritten.
 */
static char *rows_of(struct store *s)
{
	static const char sql[] =
		"SELECT 'settings', '-', id FROM settings UNION ALL "
		"SELECT 'wireguard', '-', id FROM wireguard UNION ALL "
		"SELECT 'openvpn', '-', id FROM openvpn UNION ALL "
		"SELECT 'singbox', '-', id FROM singbox UNION ALL "
		"SELECT 'wg_interfaces', name, id FROM wg_interfaces UNION ALL "
		"SELECT 'wg_peers', i.name || '/' || p.name, p.id FROM wg_peers p "
		"  LEFT JOIN wg_interfaces i ON i.id = p.parent_id UNION ALL "
		"SELECT 'ovpn_clients', name, id FROM ovpn_clients UNION ALL "
		"SELECT 'sb_inbounds', name, id FROM sb_inbounds UNION ALL "
		"SELECT 'sb_users', i.name || '/' || u.name, u.id FROM sb_users u "
		"  LEFT JOIN sb_inbounds i ON i.id = u.parent_id "
		"ORDER BY 1, 2";
	struct buf b = BUF_INIT;
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL), SQLITE_OK);
	buf_puts(&b, "\n");
	while (sqlite3_step(st) == SQLITE_ROW) {
		/* an orphan (parent gone without its children) has a NULL name */
		assert_int_equal(sqlite3_column_type(st, 1), SQLITE_TEXT);
		buf_printf(&b, "%s %s %lld\n", sqlite3_column_text(st, 0),
			   sqlite3_column_text(st, 1), (long long)sqlite3_column_int64(st, 2));
	}
	sqlite3_finalize(st);
	return buf_detach(&b);
}

/* The line of key ("wg_peers wg0/alice") in rows, or NULL. */
static const char *row_line(const char *rows, const char *key)
{
	char *pat = xasprintf("\n%s ", key);
	const char *p = strstr(rows, pat);

	free(pat);
	return p ? p + 1 : NULL;
}

/*
 * Every row of before is in after with the same id, except the keys listed
 * in changed (NULL-terminated; "table name"), which are not checked here.
 */
static void assert_rows_kept(const char *before, const char *after, const char *const *changed)
{
	const char *line = before + 1;

	while (*line) {
		const char *end = strchr(line, '\n');
		char *l = xstrndup(line, (size_t)(end - line)), *pat = xasprintf("\n%s\n", l);
		int skip = 0;

		for (size_t i = 0; changed && changed[i]; i++)
			if (!strncmp(l, changed[i], strlen(changed[i])) &&
			    l[strlen(changed[i])] == ' ')
				skip = 1;
		if (!skip && !strstr(after, pat))
			fail_msg("row \"%s\" was rewritten or removed; rows now:%s", l, after);
		free(l);
		free(pat);
		line = end + 1;
	}
}

/* Appends an object named name to a list (defaults everywhere else). */
static void *list_add(void *arr_p, size_t *n, const struct schema *sc, const char *name)
{
	char **arr = arr_p;
	char *elem;

	*arr = xrealloc(*arr, (*n + 1) * sc->size);
	elem = *arr + *n * sc->size;
	schema_init(sc, elem);
	*(char **)FIELD_PTR(elem, schema_field(sc, "name")) = xstrdup(name);
	(*n)++;
	return elem;
}

/* Removes the object named name from a list. */
static void list_remove(void *arr_p, size_t *n, const struct schema *sc, const char *name)
{
	char *arr = *(char **)arr_p;
	const struct field *nf = schema_field(sc, "name");

	for (size_t i = 0; i < *n; i++) {
		char *elem = arr + i * sc->size;

		if (strcmp(*(char **)FIELD_PTR(elem, nf), name))
			continue;
		schema_release(sc, elem);
		memmove(elem, elem + sc->size, (*n - i - 1) * sc->size);
		(*n)--;
		return;
	}
	fail_msg("no \"%s\" to remove", name);
}

static void rename_to(char **name, const char *to)
{
	free(*name);
	*name = xstrdup(to);
}

/* A cmocka setup: tu_store_setup, merge_yaml imported. */
static int merge_setup(void **x)
{
	int64_t gen;

	tu_store_setup(x);
	import_ok(*x, merge_yaml, &gen);
	return 0;
}

static void test_store__save_one_field_writes_one_row(void **x)
{
	struct store *s = *x;
	char *before, *after;
	struct atlas_state *st;
	int before_changes;

	before = rows_of(s);
	assert_int_equal(store_load(s, &st, NULL, NULL), 0);
	st->wireguard.interfaces[0].peers[1].keepalive = 25;	/* wg0/bob */
	before_changes = sqlite3_total_changes(store_db(s));
	commit_and_check(s, st);
	/*
	 * the peer's row, the new generation, the previous one turned into a
	 * delta against it, and the one piece of the text holding the change
	 * (deleted, written again): nothing else was written
	 */
	assert_int_equal(sqlite3_total_changes(store_db(s)) - before_changes, 5);
	assert_int_equal(store_generation(s), 2);
	after = rows_of(s);
	assert_string_equal(before, after);
	/* the same state again writes nothing at all */
	before_changes = sqlite3_total_changes(store_db(s));
	commit_and_check(s, st);
	assert_int_equal(sqlite3_total_changes(store_db(s)) - before_changes, 0);
	assert_int_equal(store_generation(s), 2);
	/* a settings field: the settings row, updated in place (and the same three more) */
	st->settings.resync = 60;
	before_changes = sqlite3_total_changes(store_db(s));
	commit_and_check(s, st);
	assert_int_equal(sqlite3_total_changes(store_db(s)) - before_changes, 5);
	free(after);
	after = rows_of(s);
	assert_string_equal(before, after);
	state_free(st);
	free(before);
	free(after);
}

static void test_store__save_adds_removes_renames(void **x)
{
	struct store *s = *x;
	char *before, *after;
	struct atlas_state *st;
	struct wg_iface *wg0, *wg1;
	struct sb_inbound *in1;

	/* peers: wg0/alice renamed, wg0/dave removed, wg1/zed added */
	before = rows_of(s);
	assert_int_equal(store_load(s, &st, NULL, NULL), 0);
	wg0 = state_wg_iface(st, "wg0");
	wg1 = state_wg_iface(st, "wg1");
	rename_to(&state_wg_peer(wg0, "alice")->name, "alicia");
	list_remove(&wg0->peers, &wg0->npeers, &schema_wg_peer, "dave");
	list_add(&wg1->peers, &wg1->npeers, &schema_wg_peer, "zed");
	commit_and_check(s, st);
	after = rows_of(s);
	assert_rows_kept(before, after,
			 (const char *const[]){ "wg_peers wg0/alice", "wg_peers wg0/dave", NULL });
	assert_null(row_line(after, "wg_peers wg0/alice"));
	assert_null(row_line(after, "wg_peers wg0/dave"));
	assert_non_null(row_line(after, "wg_peers wg0/alicia"));
	assert_non_null(row_line(after, "wg_peers wg1/zed"));
	assert_non_null(row_line(after, "wg_peers wg1/alice"));
	free(before);
	before = after;

	/* clients: frank removed, gina added, carol's address changed (in place) */
	list_remove(&st->openvpn.clients, &st->openvpn.nclients, &schema_ovpn_client, "frank");
	list_add(&st->openvpn.clients, &st->openvpn.nclients, &schema_ovpn_client, "gina");
	rename_to(&state_ovpn_client(st, "carol")->static_ip, "10.9.0.11");
	/* sing-box users: u1 removed, u3 added; the inbound's port changed */
	in1 = &st->singbox.inbounds[0];
	list_remove(&in1->users, &in1->nusers, &schema_sb_user, "u1");
	list_add(&in1->users, &in1->nusers, &schema_sb_user, "u3");
	in1->port = 9443;
	commit_and_check(s, st);
	after = rows_of(s);
	assert_rows_kept(before, after,
			 (const char *const[]){ "ovpn_clients frank", "sb_users in1/u1", NULL });
	assert_null(row_line(after, "ovpn_clients frank"));
	assert_non_null(row_line(after, "ovpn_clients gina"));
	assert_null(row_line(after, "sb_users in1/u1"));
	assert_non_null(row_line(after, "sb_users in1/u3"));
	free(before);
	before = after;

	/* an interface renamed: it and its peers are new rows, wg0's untouched */
	wg1 = state_wg_iface(st, "wg1");
	rename_to(&wg1->name, "wg2");
	commit_and_check(s, st);
	after = rows_of(s);
	assert_rows_kept(before, after,
			 (const char *const[]){ "wg_interfaces wg1", "wg_peers wg1/alice",
						"wg_peers wg1/erin", "wg_peers wg1/zed", NULL });
	assert_null(row_line(after, "wg_interfaces wg1"));
	assert_null(row_line(after, "wg_peers wg1/alice"));
	assert_non_null(row_line(after, "wg_peers wg2/alice"));
	assert_non_null(row_line(after, "wg_peers wg2/zed"));
	free(before);
	before = after;

	/* an interface added and one removed in the same save */
	list_remove(&st->wireguard.interfaces, &st->wireguard.ninterfaces, &schema_wg_iface, "wg2");
	wg1 = list_add(&st->wireguard.interfaces, &st->wireguard.ninterfaces, &schema_wg_iface,
		       "wg9");
	wg1->listen_port = 51829;
	strv_push(&wg1->address, "10.6.0.1/24");
	list_add(&wg1->peers, &wg1->npeers, &schema_wg_peer, "ivan");
	commit_and_check(s, st);
	after = rows_of(s);
	assert_rows_kept(before, after,
			 (const char *const[]){ "wg_interfaces wg2", "wg_peers wg2/alice",
						"wg_peers wg2/erin", "wg_peers wg2/zed", NULL });
	assert_null(row_line(after, "wg_peers wg2/alice"));
	assert_non_null(row_line(after, "wg_peers wg9/ivan"));
	state_free(st);
	free(before);
	free(after);
}

static void test_store__save_removes_and_readds_sections(void **x)
{
	struct store *s = *x;
	char *before, *after, *y1;
	struct atlas_state *st;
	int64_t gen;

	before = rows_of(s);
	y1 = tu_export_secrets(s);
	/* openvpn gone: its row and its clients (cascade), nothing else */
	assert_int_equal(store_load(s, &st, NULL, NULL), 0);
	st->has_openvpn = 0;
	commit_and_check(s, st);
	after = rows_of(s);
	assert_rows_kept(before, after,
			 (const char *const[]){ "openvpn -", "ovpn_clients carol",
						"ovpn_clients frank", NULL });
	assert_null(row_line(after, "openvpn -"));
	assert_null(row_line(after, "ovpn_clients carol"));
	free(after);
	/* wireguard gone too: interfaces and peers with it */
	st->has_wireguard = 0;
	commit_and_check(s, st);
	after = rows_of(s);
	assert_null(row_line(after, "wireguard -"));
	assert_null(row_line(after, "wg_interfaces wg0"));
	assert_null(row_line(after, "wg_peers wg0/bob"));
	assert_non_null(row_line(after, "sb_users in1/u2"));
	assert_rows_kept(before, after,
			 (const char *const[]){ "openvpn", "ovpn_clients", "wireguard",
						"wg_interfaces", "wg_peers", NULL });
	state_free(st);
	free(after);
	/* both re-added, by importing the first generation's YAML: equal again */
	import_ok(s, y1, &gen);
	after = tu_export_secrets(s);
	assert_string_equal(y1, after);
	free(after);
	after = rows_of(s);
	assert_non_null(row_line(after, "ovpn_clients carol"));
	assert_non_null(row_line(after, "wg_peers wg1/erin"));
	assert_rows_kept(before, after,
			 (const char *const[]){ "openvpn", "ovpn_clients", "wireguard",
						"wg_interfaces", "wg_peers", NULL });
	free(after);
	free(before);
	free(y1);
}

/* A failure in the middle of a save leaves every table and the generation as they were. */
static void test_store__failed_save_rolls_back(void **x)
{
	struct store *s = *x;
	char *before, *after, *y1, *y2;
	struct atlas_state *st;
	struct atlas_err err = { 0 };
	struct diags d = { 0 };
	int64_t gen;

	assert_int_equal(sqlite3_exec(store_db(s),
				      "CREATE TRIGGER boom BEFORE INSERT ON ovpn_clients "
				      "WHEN NEW.name = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	before = rows_of(s);
	y1 = tu_export_secrets(s);
	assert_int_equal(store_load(s, &st, NULL, NULL), 0);
	/* written before the failing insert: a peer, settings, a removed client */
	st->wireguard.interfaces[0].peers[0].keepalive = 15;
	st->settings.resync = 99;
	list_remove(&st->openvpn.clients, &st->openvpn.nclients, &schema_ovpn_client, "carol");
	list_add(&st->openvpn.clients, &st->openvpn.nclients, &schema_ovpn_client, "boom");
	assert_int_equal(state_commit(s, st, NULL, "test", "test", &d, &gen, &err), -1);
	assert_non_null(strstr(err.msg, "boom"));
	diags_clear(&d);
	after = rows_of(s);
	assert_string_equal(before, after);
	y2 = tu_export_secrets(s);
	assert_string_equal(y1, y2);
	assert_int_equal(store_generation(s), 1);
	state_free(st);
	free(before);
	free(after);
	free(y1);
	free(y2);
}

/* store_save() does not rely on the lists being sorted by name. */
static void test_store__save_unsorted_lists(void **x)
{
	struct store *s = *x;
	char *before, *after, *y1, *y2;
	struct atlas_state *st;
	struct wg_iface *wg0;
	struct wg_peer tmp;
	int64_t gen;

	before = rows_of(s);
	y1 = tu_export_secrets(s);
	assert_int_equal(store_load(s, &st, NULL, NULL), 0);
	wg0 = &st->wireguard.interfaces[0];
	tmp = wg0->peers[0];
	wg0->peers[0] = wg0->peers[2];
	wg0->peers[2] = tmp;
	assert_int_equal(store_save(s, st, "test", "test", &gen, NULL), 0);
	after = rows_of(s);
	assert_string_equal(before, after);
	y2 = tu_export_secrets(s);
	assert_string_equal(y1, y2);
	state_free(st);
	free(before);
	free(after);
	free(y1);
	free(y2);
}

TU_MAIN(NULL, NULL,
	MERGE_TEST(test_store__save_one_field_writes_one_row),
	MERGE_TEST(test_store__save_adds_removes_renames),
	MERGE_TEST(test_store__save_removes_and_readds_sections),
	MERGE_TEST(test_store__failed_save_rolls_back),
	MERGE_TEST(test_store__save_unsorted_lists))
