/* SPDX-License-Identifier: BSD-3-Clause */
/* Names of the drop reasons, as printed by tools and used in JSON keys. */
#include <stddef.h>

#include "export.h"
#include "fragnet.h"
#include "stats.h"

static const char *const drop_names[FRAGNET_DROP_MAX] = {
	[FRAGNET_DROP_ETH_DST] = "eth_dst",
	[FRAGNET_DROP_ETH_TYPE] = "eth_type",
	[FRAGNET_DROP_ETH_SHORT] = "eth_short",
	[FRAGNET_DROP_ARP_MALFORMED] = "arp_malformed",
	[FRAGNET_DROP_ARP_NOT_OURS] = "arp_not_ours",
	[FRAGNET_DROP_ARP_UNRESOLVED] = "arp_unresolved",
	[FRAGNET_DROP_IP_MALFORMED] = "ip_malformed",
	[FRAGNET_DROP_IP_CSUM] = "ip_csum",
	[FRAGNET_DROP_IP_NOT_OURS] = "ip_not_ours",
	[FRAGNET_DROP_IP_PROTO] = "ip_proto",
	[FRAGNET_DROP_FRAG_MALFORMED] = "frag_malformed",
	[FRAGNET_DROP_FRAG_DUPLICATE] = "frag_duplicate",
	[FRAGNET_DROP_FRAG_TIMEOUT] = "frag_timeout",
	[FRAGNET_DROP_FRAG_NOMEM] = "frag_nomem",
	[FRAGNET_DROP_FRAG_DISABLED] = "frag_disabled",
	[FRAGNET_DROP_UDP_MALFORMED] = "udp_malformed",
	[FRAGNET_DROP_UDP_CSUM] = "udp_csum",
	[FRAGNET_DROP_UDP_NO_PORT] = "udp_no_port",
	[FRAGNET_DROP_ICMP_MALFORMED] = "icmp_malformed",
	[FRAGNET_DROP_ICMP_UNHANDLED] = "icmp_unhandled",
	[FRAGNET_DROP_FILTER] = "filter",
	[FRAGNET_DROP_NO_MBUF] = "no_mbuf",
	[FRAGNET_DROP_TX_FULL] = "tx_full",
	[FRAGNET_DROP_HANDOFF] = "handoff",
	[FRAGNET_DROP_NO_ROUTE] = "no_route",
};

FN_EXPORT const char *fragnet_drop_name(unsigned reason)
{
	return reason < FRAGNET_DROP_MAX ? drop_names[reason] : NULL;
}
