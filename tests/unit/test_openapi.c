/*
 * test_openapi.c - docs/openapi.yaml documents exactly the routes the
 * server has (api/router.c's table), no more, no fewer; and the router
 * matches paths as the table says.
 */
#include <ctype.h>

#include <yaml.h>

#include "testutil.h"

#include "api/api.h"
#include "api/resource.h"
#include "api/singbox.h"

static const char *const methods[] = {"get", "post", "put", "patch", "delete", NULL};

static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);

		if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

/* "METHOD path" lines of the document, sorted, into out. */
static void documented(struct strv *out)
{
	char *text = tu_read("docs/openapi.yaml");
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *paths;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (unsigned char *)text, strlen(text));
	if (!yaml_parser_load(&parser, &doc))
		fail_msg("docs/openapi.yaml does not parse: %s", parser.problem);
	paths = map_get(&doc, yaml_document_get_root_node(&doc), "paths");
	assert_non_null(paths);
	for (yaml_node_pair_t *p = paths->data.mapping.pairs.start;
	     p < paths->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&doc, p->value);

		for (size_t m = 0; methods[m]; m++) {
			char up[16];

			if (!map_get(&doc, v, methods[m]))
				continue;
			for (size_t i = 0; i <= strlen(methods[m]); i++)
				up[i] = (char)toupper((unsigned char)methods[m][i]);
			strv_push_owned(out, xasprintf("%s %s", up, (char *)k->data.scalar.value));
		}
	}
	strv_sort(out);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	free(text);
}

static void test_openapi__paths_match_routes(void **ts)
{
	struct strv doc = STRV_INIT, routes = STRV_INIT;

	(void)ts;
	documented(&doc);
	for (size_t i = 0; i < api_nroutes; i++)
		strv_push_owned(&routes,
				xasprintf("%s %s", api_routes[i].method, api_routes[i].pattern));
	strv_sort(&routes);
	for (size_t i = 0; i < routes.n; i++)
		if (!strv_contains(&doc, routes.v[i]))
			fail_msg("route \"%s\" is not in docs/openapi.yaml", routes.v[i]);
	for (size_t i = 0; i < doc.n; i++)
		if (!strv_contains(&routes, doc.v[i]))
			fail_msg("docs/openapi.yaml has \"%s\", which the server does not",
				 doc.v[i]);
	assert_int_equal(doc.n, routes.n);
	strv_clear(&doc);
	strv_clear(&routes);
}

static void test_openapi__router_matches(void **ts)
{
	char p[3][128];
	size_t n;
	int known;
	const struct route *r;

	(void)ts;
	r = router_match("GET", "/api/v1/wireguard/interfaces/wg0/peers/alice/config", p, &n,
			 &known);
	assert_non_null(r);
	assert_ptr_equal(r->fn, res_file);
	assert_ptr_equal(r->res, &res_wg_peer);
	assert_int_equal(n, 2);
	assert_string_equal(p[0], "wg0");
	assert_string_equal(p[1], "alice");
	/* A known path with another method: no route, but known (405). */
	assert_null(router_match("PUT", "/api/v1/wireguard/interfaces/wg0", p, &n, &known));
	assert_true(known);
	assert_null(router_match("GET", "/api/v1/wireguard/interfaces/wg0/", p, &n, &known));
	assert_false(known);
	assert_null(router_match("GET", "/api/v1/wireguard/interfaces//peers", p, &n, &known));
	assert_null(router_match("GET", "/api/v1/../../etc/passwd", p, &n, &known));
	r = router_match("HEAD", "/api/v1/health", p, &n, &known);
	assert_non_null(r);
	assert_ptr_equal(r->fn, h_health);
	/* Only /health, /auth/login, /metrics and /sub/{token} go without the admin token. */
	for (size_t i = 0; i < api_nroutes; i++)
		if (api_routes[i].flags & R_NOAUTH)
			assert_true(api_routes[i].fn == h_health || api_routes[i].fn == h_login ||
				    api_routes[i].fn == h_metrics || api_routes[i].fn == h_sub);
	r = router_match("GET", "/sub/AbC-123_x", p, &n, &known);
	assert_non_null(r);
	assert_ptr_equal(r->fn, h_sub);
	assert_string_equal(p[0], "AbC-123_x");
	assert_null(router_match("GET", "/sub/", p, &n, &known));
	r = router_match("GET", "/api/v1/singbox/inbounds/edge/users/alice/qr.svg", p, &n, &known);
	assert_non_null(r);
	assert_ptr_equal(r->res, &res_sb_user);
	assert_string_equal(p[0], "edge");
	assert_string_equal(p[1], "alice");
}

TU_MAIN(NULL, NULL,
	cmocka_unit_test(test_openapi__paths_match_routes),
	cmocka_unit_test(test_openapi__router_matches))
