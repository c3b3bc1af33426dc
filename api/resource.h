/*
 * resource.h - a kind of resource of the API (a WireGuard interface, its
 * peers, an OpenVPN client, the OpenVPN server section) described once, as
 * data, and served by one set of handlers in resource.c.
 *
 * A resource lives in a list of the desired state: a list of a section of
 * the state (st->wireguard.interfaces) or a list of a parent resource (an
 * interface's peers). Its fields, their JSON names, defaults and checks come
 * from its field table in state/schema.c, which also says where each list
 * and section sits in its struct: a descriptor only names them. What the
 * handlers answer:
 *
 *   res_list    GET    <collection>   200, the items as a JSON array
 *   res_create  POST   <collection>   201, the new item; 409 when its name is taken
 *   res_get     GET    <item>         200, the item; 404 when absent
 *   res_patch   PATCH  <item>         200, the item; a new "name" renames it when
 *                                     .renamable (409 when taken), else 422
 *   res_delete  DELETE <item>         204
 *   res_file    GET    <item>/<file>  200, a client file (struct res_file)
 *
 * A create may carry the first items of one list of the new item
 * (.create_with: a sing-box inbound with its first "users", since an
 * inbound without users is refused); afterwards that list is edited only
 * through its own resource, and a PATCH refuses it.
 *
 * A descriptor without list is a section itself (/api/v1/openvpn):
 * res_section_get answers 404 with .unmanaged while it is absent, and
 * res_section_patch creates it from its defaults.
 *
 * The path parameters are the names from the top down: params[0] names the
 * top-level resource, params[1] its child (router.c). An item's JSON is its
 * schema's fields (never the secret ones), then the length of each list it
 * holds under the list's name (an interface's "peers": 3), then what
 * write_extra adds (a live "status"). Writes go through app_edit_begin /
 * app_edit_commit: state_commit validates the whole state, records a
 * history entry "add|change|remove <title> <names joined by />" and wakes
 * the reconcile loop, which plans every engine and changes only what
 * differs. Validation rules live in state/validate.c, shared with YAML and
 * the CLI, so a descriptor carries none of its own.
 *
 * How to add a resource kind (api/api_singbox.c is the latest example):
 *   1. its struct and field table are in state/ (schema_sb_inbound with an
 *      F_LIST field "users" of schema_sb_user; the section "singbox" is an
 *      F_SECTION field of schema_root);
 *   2. declare the descriptors in api/api_<engine>.c:
 *        const struct resource res_sb_inbound = {
 *            .schema = &schema_sb_inbound, .title = "sing-box inbound",
 *            .section = "singbox", .list = "inbounds", .engine = "singbox",
 *            .create_with = "users",
 *        };
 *        const struct resource res_sb_user = {
 *            .schema = &schema_sb_user, .title = "sing-box user",
 *            .parent = &res_sb_inbound, .list = "users", .engine = "singbox",
 *            .files = sb_user_files,
 *        };
 *      plus live_acquire / live_release / write_extra when its items show a
 *      live status, and .unmanaged when a create must not add the section;
 *   3. list them in api_resources[] (router.c): test_resource.c checks every
 *      descriptor there against its field tables and its routes;
 *   4. add the routes to router.c, RES_ROUTES(collection, item, &res, scope) and a
 *      res_file row per client file, and document them in docs/api.md and
 *      docs/openapi.yaml (test_openapi.c compares the two).
 * No handler code is needed.
 */
#ifndef ATLAS_RESOURCE_H
#define ATLAS_RESOURCE_H

#include <stddef.h>

struct app;
struct buf;
struct req;
struct schema;

struct atlas_state;
struct atlas_err;

/*
 * A client file of an item: GET <item>/<route>, from the driver's
 * client_config(), or from render when set (a pure renderer of the state:
 * the file needs no driver). render appends the file to out, or fails with
 * ERR_NOTFOUND (404), ERR_INVALID (409: the state lacks what it needs,
 * such as settings.host) or another code (500).
 */
struct res_file {
	const char *route;  /* the last path segment: "config", "qr.svg" */
	const char *format; /* the driver's format: "conf", "qr.svg", "ovpn" */
	const char *ctype;  /* Content-Type */
	const char *ext;    /* ".conf": an attachment "<name>.conf"; NULL: inline */
	int (*render)(const struct atlas_state *st, const void *parent, const void *item,
		      struct buf *out, struct atlas_err *err);
};

struct resource {
	/* Its field table; schema->name ("peer") names it in messages and in its path. */
	const struct schema *schema;
	const char *title;	       /* "wireguard interface": 404/409 messages, history */
	const struct resource *parent; /* NULL: its list is in a section of the state */
	const char *section;	       /* without parent: the F_SECTION field of schema_root */
	const char *list; /* the F_LIST field of the section or of the parent; NULL: the
			     resource is the section itself */
	/*
	 * Without parent: the 409 of a create while the section is absent
	 * (NULL: the create adds the section with its defaults). Without list:
	 * the 404 of a GET while the section is absent.
	 */
	const char *unmanaged;
	const char *engine;	      /* its engine, whose driver renders its client files */
	const char *create_with; /* an F_LIST field of schema a create may fill; NULL: none */
	/*
	 * Whether a PATCH may change the name: a rename keeps every other field
	 * (keys, addresses), so it suits an item its engine knows by something
	 * else (a WireGuard peer by its public key). no_rename: the one-sentence
	 * 422 of a refused rename (NULL: "<title> \"NAME\": name cannot be changed").
	 */
	int renamable;
	const char *no_rename;
	const struct res_file *files; /* ended by {NULL}; NULL: none */
	/*
	 * The live status, taken once per reply (under a lock or as a new
	 * reference) and given back after; NULL hooks: none. write_extra
	 * appends members (",\"status\":{...}") to an item's JSON: parent is
	 * the parent item or NULL, live what live_acquire returned.
	 */
	void *(*live_acquire)(struct app *a);
	void (*live_release)(struct app *a, void *live);
	void (*write_extra)(struct buf *out, const void *parent, const void *item, void *live);
};

/* router.c: every descriptor, NULL-ended (for the tests). */
extern const struct resource *const api_resources[];

extern const struct resource res_wg_iface;
extern const struct resource res_wg_peer;
extern const struct resource res_ovpn_server;
extern const struct resource res_ovpn_client;
extern const struct resource res_sb_section;
extern const struct resource res_sb_inbound;
extern const struct resource res_sb_user;

/* The handlers: each reads its descriptor from r->route->res. */
void res_list(struct req *r);
void res_create(struct req *r);
void res_get(struct req *r);
void res_patch(struct req *r);
void res_delete(struct req *r);
void res_file(struct req *r);
/* POST COLLECTION:bulk: disable, enable or delete many items in one generation. */
void res_bulk(struct req *r);
/* A section itself (a descriptor without list): GET and PATCH on one path. */
void res_section_get(struct req *r);
void res_section_patch(struct req *r);

/*
 * The five routes of a resource: its collection and item paths, R_WRITE on
 * writes; an API token needs write_scope for the writes (router.c).
 */
#define RES_ROUTES(collection, item, res, write_scope)                                             \
	{"GET", collection, res_list, 0, SCOPE_READ, res},                                         \
	{"POST", collection, res_create, R_WRITE, write_scope, res},                               \
	{"GET", item, res_get, 0, SCOPE_READ, res},                                                \
	{"PATCH", item, res_patch, R_WRITE, write_scope, res},                                     \
	{"DELETE", item, res_delete, R_WRITE, write_scope, res}

#endif
