/*
 * router.c - the table of every HTTP route of the API, and the matcher.
 *
 * The table is the truth: tests/unit/test_openapi.c checks that
 * docs/openapi.yaml documents exactly these routes. RES_ROUTES (resource.h)
 * stands for the five routes of a resource kind: GET and POST on its
 * collection, GET, PATCH and DELETE on an item (its writes need the scope
 * given, its reads SCOPE_READ).
 *
 * The fifth column is the scope an API token needs (a panel session may
 * call every route): read may only look; operator manages users (peers,
 * clients, sing-box users, their usage and subscriptions) and applies;
 * admin does everything else; SCOPE_SESSION is for the account's own
 * password and second factor, which no token reaches. tests/unit/
 * test_tokens.c checks the column against these rules.
 */
#include <string.h>

#include "api/api.h"
#include "api/resource.h"
#include "api/singbox.h"
#include "state/tokens.h"

#define V1 "/api/v1"

const struct route api_routes[] = {
    {"GET", V1 "/health", h_health, R_NOAUTH, SCOPE_READ},
    {"POST", V1 "/auth/login", h_login, R_NOAUTH, SCOPE_READ},
    {"POST", V1 "/auth/password", h_password, 0, SCOPE_SESSION},
    {"GET", V1 "/status", h_status, 0, SCOPE_READ},
    {"GET", V1 "/settings", h_settings_get, 0, SCOPE_READ},
    {"PATCH", V1 "/settings", h_settings_patch, R_WRITE, SCOPE_ADMIN},
    RES_ROUTES(V1 "/wireguard/interfaces", V1 "/wireguard/interfaces/{if}", &res_wg_iface,
	       SCOPE_ADMIN),
    RES_ROUTES(V1 "/wireguard/interfaces/{if}/peers", V1 "/wireguard/interfaces/{if}/peers/{name}",
	       &res_wg_peer, SCOPE_OPERATOR),
    {"POST", V1 "/wireguard/interfaces/{if}/peers:bulk", res_bulk, R_WRITE, SCOPE_OPERATOR, &res_wg_peer},
    {"GET", V1 "/wireguard/interfaces/{if}/peers/{name}/config", res_file, 0, SCOPE_READ, &res_wg_peer},
    {"GET", V1 "/wireguard/interfaces/{if}/peers/{name}/qr.svg", res_file, 0, SCOPE_READ, &res_wg_peer},
    {"GET", V1 "/openvpn", res_section_get, 0, SCOPE_READ, &res_ovpn_server},
    {"PATCH", V1 "/openvpn", res_section_patch, R_WRITE, SCOPE_ADMIN, &res_ovpn_server},
    RES_ROUTES(V1 "/openvpn/clients", V1 "/openvpn/clients/{name}", &res_ovpn_client,
	       SCOPE_OPERATOR),
    {"POST", V1 "/openvpn/clients:bulk", res_bulk, R_WRITE, SCOPE_OPERATOR, &res_ovpn_client},
    {"GET", V1 "/openvpn/clients/{name}/config", res_file, 0, SCOPE_READ, &res_ovpn_client},
    {"POST", V1 "/openvpn/restart", h_ovpn_restart, 0, SCOPE_ADMIN},
    {"GET", V1 "/singbox", res_section_get, 0, SCOPE_READ, &res_sb_section},
    {"PATCH", V1 "/singbox", res_section_patch, R_WRITE, SCOPE_ADMIN, &res_sb_section},
    RES_ROUTES(V1 "/singbox/inbounds", V1 "/singbox/inbounds/{in}", &res_sb_inbound, SCOPE_ADMIN),
    RES_ROUTES(V1 "/singbox/inbounds/{in}/users", V1 "/singbox/inbounds/{in}/users/{name}",
	       &res_sb_user, SCOPE_OPERATOR),
    {"POST", V1 "/singbox/inbounds/{in}/users:bulk", res_bulk, R_WRITE, SCOPE_OPERATOR, &res_sb_user},
    {"GET", V1 "/singbox/inbounds/{in}/users/{name}/link", res_file, 0, SCOPE_READ, &res_sb_user},
    {"GET", V1 "/singbox/inbounds/{in}/users/{name}/qr.svg", res_file, 0, SCOPE_READ, &res_sb_user},
    {"GET", V1 "/singbox/users", h_sb_persons, 0, SCOPE_READ},
    {"GET", V1 "/singbox/users/{name}/links", h_sb_person_links, 0, SCOPE_READ},
    {"GET", V1 "/singbox/users/{name}/profile", h_sb_person_profile, 0, SCOPE_READ},
    {"GET", V1 "/singbox/users/{name}/subscription", h_sb_person_subscription, 0, SCOPE_READ},
    {"GET", V1 "/singbox/users/{name}/subscription/qr.svg", h_sb_person_subscription_qr, 0, SCOPE_READ},
    {"POST", V1 "/singbox/users/{name}/subscription/rotate", h_sb_person_rotate, R_WRITE, SCOPE_OPERATOR},
    {"GET", V1 "/plan", h_plan, 0, SCOPE_READ},
    {"POST", V1 "/apply", h_apply, 0, SCOPE_OPERATOR},
    {"GET", V1 "/state", h_state_get, 0, SCOPE_READ},
    {"PUT", V1 "/state", h_state_put, R_WRITE | R_BIG_BODY | R_DRY_RUN, SCOPE_ADMIN},
    {"GET", V1 "/history", h_history, 0, SCOPE_READ},
    {"GET", V1 "/history/{N}", h_history_get, 0, SCOPE_READ},
    /* Restore stays allowed with --watch: the operator's emergency rollback. */
    {"POST", V1 "/history/{N}/restore", h_history_restore, 0, SCOPE_ADMIN},
    {"GET", V1 "/usage", h_usage, 0, SCOPE_READ},
    {"POST", V1 "/usage/{name}/reset", h_usage_reset, 0, SCOPE_OPERATOR},
    {"GET", V1 "/events", h_events, R_QUERY_TOKEN, SCOPE_READ},
    /* the administrator's second factor (api_tokens.c) */
    {"GET", V1 "/auth/totp", h_totp_get, 0, SCOPE_SESSION},
    {"POST", V1 "/auth/totp/enroll", h_totp_enroll, 0, SCOPE_SESSION},
    {"POST", V1 "/auth/totp/confirm", h_totp_confirm, 0, SCOPE_SESSION},
    {"POST", V1 "/auth/totp/disable", h_totp_disable, 0, SCOPE_SESSION},
    /* scoped API tokens (api_tokens.c) */
    {"GET", V1 "/tokens", h_tokens_list, 0, SCOPE_ADMIN},
    {"POST", V1 "/tokens", h_tokens_create, 0, SCOPE_ADMIN},
    {"DELETE", V1 "/tokens/{name}", h_tokens_revoke, 0, SCOPE_ADMIN},
    /* /metrics checks its own optional token (ATLAS_METRICS_TOKEN). */
    {"GET", "/metrics", h_metrics, R_NOAUTH, SCOPE_READ},
    /* A subscriber's client fetches with the token in the path and no login. */
    {"GET", "/sub/{token}", h_sub, R_NOAUTH, SCOPE_READ},
};
const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);

int router_scope(const struct route *rt)
{
	/* a row without a scope (0) needs the most a token can have */
	return rt->scope ? rt->scope : SCOPE_ADMIN;
}

const struct resource *const api_resources[] = {
    &res_wg_iface,   &res_wg_peer,    &res_ovpn_server, &res_ovpn_client,
    &res_sb_section, &res_sb_inbound, &res_sb_user,	NULL};

/* Matches path against pattern segment by segment; {x} captures one segment. */
static int match(const char *pattern, const char *path, char params[][128], size_t *n)
{
	const char *p = pattern, *u = path;

	*n = 0;
	while (*p && *u) {
		if (*p == '{') {
			const char *pe = strchr(p, '}'), *ue = strchr(u, '/');
			size_t len = ue ? (size_t)(ue - u) : strlen(u);

			if (!pe || len == 0 || len >= 128 || *n >= 3)
				return 0;
			memcpy(params[*n], u, len);
			params[*n][len] = '\0';
			(*n)++;
			p = pe + 1;
			u += len;
			continue;
		}
		if (*p != *u)
			return 0;
		p++;
		u++;
	}
	return !*p && !*u;
}

const struct route *router_match(const char *method, const char *path, char params[][128],
				 size_t *nparams, int *path_known)
{
	*path_known = 0;
	for (size_t i = 0; i < api_nroutes; i++) {
		if (!match(api_routes[i].pattern, path, params, nparams))
			continue;
		*path_known = 1;
		if (!strcmp(api_routes[i].method, method))
			return &api_routes[i];
	}
	/* HEAD is GET without a body (MHD drops the body). */
	if (!strcmp(method, "HEAD"))
		return router_match("GET", path, params, nparams, path_known);
	return NULL;
}
