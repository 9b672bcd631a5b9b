/* RESP over UDP on libfragnet: a connection type for UDP flows.
 *
 * One flow (peer address and port) is one Redis client. A request datagram
 * may carry pipelined commands; connRead() never crosses a datagram boundary,
 * and one datagram per flow is dispatched per event loop iteration so that
 * its replies leave together. Each connWrite()/connWritev() emits one
 * datagram of at most udp-max-datagram bytes: larger replies span several
 * datagrams and the client reassembles the RESP stream.
 *
 * The queue is polled from beforeSleep() on Redis's own thread (the EAL main
 * lcore); replies are flushed after the AOF write of the same iteration.
 *
 * Until a flow's source address is validated (a UDPCOOKIE handshake, answered
 * by the transport itself, or udp-trusted-prefixes) it is sent at most 3x the
 * bytes it sent, and it counts against a budget of unvalidated flows.
 *
 * This header is included by server.h and must not pull in DPDK. */

#ifndef __REDIS_FRAGNET_UDP_H
#define __REDIS_FRAGNET_UDP_H

struct client;
struct connection;

/* Directives, all IMMUTABLE|HIDDEN (see UDP_CONFIGS below). */
typedef struct udpConfig {
    int port;               /* UDP port served; 0 disables the transport */
    int queue;              /* which queue of the opened port(s) this instance polls */
    int n_queues;           /* queues to configure (0: one per port) */
    char *dpdk_ports;       /* space separated PCI addresses / vdev strings */
    char *eal_args;         /* extra EAL arguments */
    char *lcores;           /* EAL core list for this process (empty: library default) */
    char *address;          /* our IPv4 address, "a.b.c.d/len" */
    char *gateway;          /* default gateway, or empty */
    char *neighbours;       /* static neighbours "ip=mac ip=mac" */
    char *app_name;         /* selects the rules table ("inet NAME") */
    char *daemon_socket;    /* fragnetd socket (empty: library default) */
    int mtu;                /* IP MTU (0: the port's) */
    int max_datagram;       /* largest reply datagram, bytes */
    int idle_timeout;       /* seconds without a request before a flow is reaped */
    int max_queued;         /* request datagrams queued per flow before drops */
    int busy_poll;          /* never sleep in epoll, even when the queue is idle */
    int require_rules;      /* refuse to start without fragnetd's rules */
    int max_flows;          /* UDP flows at most, validated or not */
    int max_unvalidated_per_prefix; /* unvalidated flows per source /24 */
    int unvalidated_idle_timeout;   /* seconds before an unvalidated flow is reaped */
    char *trusted_prefixes; /* "a.b.c.d/len ...": sources validated without a cookie */
} udpConfig;

extern udpConfig udp_config;

/* Expanded inside config.c's static_configs[]. */
#define UDP_CONFIGS \
    createIntConfig("udp-port", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, 0, 65535, udp_config.port, 0, INTEGER_CONFIG, NULL, NULL), \
    createIntConfig("udp-queue", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, 0, 1023, udp_config.queue, 0, INTEGER_CONFIG, NULL, NULL), \
    createIntConfig("udp-queues", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, 0, 1024, udp_config.n_queues, 0, INTEGER_CONFIG, NULL, NULL), \
    createStringConfig("udp-dpdk-ports", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, EMPTY_STRING_IS_NULL, udp_config.dpdk_ports, NULL, NULL, NULL), \
    createStringConfig("udp-eal-args", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, EMPTY_STRING_IS_NULL, udp_config.eal_args, NULL, NULL, NULL), \
    createStringConfig("udp-lcores", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, EMPTY_STRING_IS_NULL, udp_config.lcores, NULL, NULL, NULL), \
    createStringConfig("udp-address", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, EMPTY_STRING_IS_NULL, udp_config.address, NULL, NULL, NULL), \
    createStringConfig("udp-gateway", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, EMPTY_STRING_IS_NULL, udp_config.gateway, NULL, NULL, NULL), \
    createStringConfig("udp-neighbours", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, EMPTY_STRING_IS_NULL, udp_config.neighbours, NULL, NULL, NULL), \
    createStringConfig("udp-app-name", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, ALLOW_EMPTY_STRING, udp_config.app_name, "redis", NULL, NULL), \
    createStringConfig("udp-daemon-socket", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, EMPTY_STRING_IS_NULL, udp_config.daemon_socket, NULL, NULL, NULL), \
    createIntConfig("udp-mtu", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, 0, 9000, udp_config.mtu, 0, INTEGER_CONFIG, NULL, NULL), \
    createIntConfig("udp-max-datagram", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, 64, 65507, udp_config.max_datagram, 1472, INTEGER_CONFIG, NULL, NULL), \
    createIntConfig("udp-idle-timeout", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, 1, INT_MAX, udp_config.idle_timeout, 60, INTEGER_CONFIG, NULL, NULL), \
    createIntConfig("udp-max-queued-datagrams", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, 1, 65536, udp_config.max_queued, 256, INTEGER_CONFIG, NULL, NULL), \
    createBoolConfig("udp-busy-poll", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, udp_config.busy_poll, 0, NULL, NULL), \
    createBoolConfig("udp-require-rules", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, udp_config.require_rules, 1, NULL, NULL), \
    createIntConfig("udp-max-flows", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, 1, INT_MAX, udp_config.max_flows, 1000, INTEGER_CONFIG, NULL, NULL), \
    createIntConfig("udp-max-unvalidated-per-prefix", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, 1, INT_MAX, udp_config.max_unvalidated_per_prefix, 64, INTEGER_CONFIG, NULL, NULL), \
    createIntConfig("udp-unvalidated-idle-timeout", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, 1, INT_MAX, udp_config.unvalidated_idle_timeout, 2, INTEGER_CONFIG, NULL, NULL), \
    createStringConfig("udp-trusted-prefixes", NULL, IMMUTABLE_CONFIG | HIDDEN_CONFIG, EMPTY_STRING_IS_NULL, udp_config.trusted_prefixes, NULL, NULL, NULL),

/* Start the transport when udp-port is set: open libfragnet, bind the port.
 * Exits the server with a log line when the configuration does not work. */
void udpInit(void);
/* Receive a burst and dispatch one queued datagram per flow. Returns the
 * number of datagrams dispatched (for processEventsWhileBlocked). */
int udpProcessEvents(void);
/* Run pending write handlers, then hand queued datagrams to the device. */
int udpFlush(void);
/* True while the loop should not sleep: recent traffic or queued work. */
int udpIsActive(void);
/* NULL, or the error text for a command that cannot run over UDP (or not
 * yet: an unvalidated flow whose replies waiting are past its allowance). */
const char *udpCommandRefusal(struct client *c);
/* Appends the "# UDP" section of INFO (flows, validation, refusals). */
sds udpGenInfoString(sds info);

int udpConnAddrToString(struct connection *conn, char *ip, size_t ip_len, int *port, int fd_to_str_type);
int udpConnFormatAddr(struct connection *conn, char *buf, size_t buf_len, int fd_to_str_type);

#endif /* __REDIS_FRAGNET_UDP_H */
