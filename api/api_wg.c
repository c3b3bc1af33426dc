/*
 * api_wg.c - /api/v1/wireguard: interfaces and their peers, declared as
 * resources (resource.h): a peer shows its live status from the kernel
 * (on the interface, endpoint, last handshake, traffic) and has two client
 * files, its wg-quick config and that config as a QR code.
 */
#include "state/json.h"
#include "state/schema.h"
#include "api/api.h"
#include "api/resource.h"

/* The live WireGuard status, read under live_mu (NULL: no status yet). */
static void *wg_live_acquire(struct app *a)
{
	pthread_mutex_lock(&a->live_mu);
	return a->live_wg;
}

static void wg_live_release(struct app *a, void *live)
{
	(void)live;
	pthread_mutex_unlock(&a->live_mu);
}

/* ,"status":{...} of peer item of interface parent, or null without a status. */
static void peer_status(struct buf *out, const void *parent, const void *item, void *live)
{
	const struct wg_iface *ifc = parent;
	const struct wg_peer *p = item;
	const struct live_iface *li = live_wg_iface(live, ifc->name);
	const struct live_peer *lp = live_wg_peer(li, &p->public_key);

	if (!live) {
		buf_puts(out, ",\"status\":null");
		return;
	}
	buf_printf(out, ",\"status\":{\"on_interface\":%s,\"endpoint\":", lp ? "true" : "false");
	json_write_str(out, live_peer_endpoint(li, lp));
	buf_printf(out, ",\"latest_handshake\":%lld,\"rx_bytes\":%lld,\"tx_bytes\":%lld}",
		   lp ? (long long)lp->handshake : 0, lp ? lp->rx : 0, lp ? lp->tx : 0);
}

const struct resource res_wg_iface = {
    .schema = &schema_wg_iface,
    .title = "wireguard interface",
    .section = "wireguard",
    .list = "interfaces",
    .engine = "wireguard",
    .no_rename = "a WireGuard interface cannot be renamed: its name is its network device's; "
		 "add a new interface instead",
};

static const struct res_file peer_files[] = {
    {"config", "conf", "text/plain; charset=utf-8", ".conf"},
    {"qr.svg", "qr.svg", "image/svg+xml", NULL},
    {NULL},
};

const struct resource res_wg_peer = {
    .schema = &schema_wg_peer,
    .title = "peer",
    .parent = &res_wg_iface,
    .list = "peers",
    .engine = "wireguard",
    .files = peer_files,
    /* WireGuard knows a peer by its public key: a rename leaves the interface alone. */
    .renamable = 1,
    .live_acquire = wg_live_acquire,
    .live_release = wg_live_release,
    .write_extra = peer_status,
};
