/*
 * nat_render.c - the nftables script of one engine's NAT table. Pure: the
 * plan compares it with what nft lists, controller/nat.c loads it.
 */
#include <string.h>

#include "renderers/nat_render.h"

/* Names that reach the nft script: letters, digits and _ . - @ only. */
static int nft_name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n > max)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-' || *s == '@'))
			return 0;
	return 1;
}

int nat_render(const char *table, const struct nat_net *nets, size_t n, const char *egress,
	       struct buf *out, struct atlas_err *err)
{
	if (!nft_name_ok(table, 64) || strchr(table, '.') || strchr(table, '@'))
		return err_set(err, ERR_INVALID, "nftables table name \"%s\" is not valid", table);
	if (egress && !nft_name_ok(egress, 15))
		return err_set(err, ERR_INVALID, "egress interface \"%s\" is not valid", egress);
	for (size_t i = 0; i < n; i++)
		if (!nft_name_ok(nets[i].iface, 15) || strspn(nets[i].prefix, "0123456789abcdef.:/") !=
							      strlen(nets[i].prefix))
			return err_set(err, ERR_INVALID, "network \"%s\" of \"%s\" is not valid",
				       nets[i].prefix, nets[i].iface);
	/* Creating first makes the delete valid when the table is absent. */
	buf_printf(out, "table inet %s\ndelete table inet %s\n", table, table);
	/* From here: byte for byte what `nft list table` prints (nftables 1.0). */
	buf_printf(out,
		   "table inet %s {\n\tchain postrouting {\n"
		   "\t\ttype nat hook postrouting priority srcnat; policy accept;\n",
		   table);
	for (size_t i = 0; i < n; i++) {
		buf_printf(out, "\t\t%s saddr %s ", nets[i].v6 ? "ip6" : "ip", nets[i].prefix);
		if (egress)
			buf_printf(out, "oifname \"%s\" masquerade\n", egress);
		else
			buf_printf(out, "oifname != \"%s\" masquerade\n", nets[i].iface);
	}
	buf_puts(out, "\t}\n}\n");
	return 0;
}
