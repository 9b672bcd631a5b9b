/* RESP over UDP on libfragnet: the UDP connection type (see fragnet_udp.h).
 *
 * Flows live in a dict keyed by peer address and port, and on up to three
 * intrusive lists: every flow on the LRU list (least recently heard first,
 * for reaping), flows with a request datagram waiting on the pending list,
 * flows with a write handler on the writers list. The lists are intrusive so
 * that closing any flow from inside any handler (CLIENT KILL, reaping, a
 * protocol error) unlinks it in O(1) from whatever round is being walked.
 *
 * Life of a request:
 *   beforeSleep -> udpProcessEvents -> fragnet_poll -> udpRecv (copy the
 *   datagram into its flow, accepting the flow first if new) -> dispatch one
 *   datagram per flow through the read handler (readQueryFromClient) ->
 *   ... AOF write/fsync ... -> handleClientsWithPendingWrites -> connWrite
 *   (one datagram each) -> udpFlush -> write handlers -> fragnet_flush.
 *
 * Nothing is sent to the device before udpFlush() (or the next poll, which
 * also comes after an AOF flush), so `appendfsync always` holds over UDP.
 *
 * Source addresses are not authenticated, so a spoofed request must not
 * turn the server into a reflector, nor spoofed flows lock out real
 * clients. Until a flow's address is validated (a UDPCOOKIE exchange, or a
 * source in udp-trusted-prefixes) it is sent at most 3x the bytes it sent
 * (RFC 9000 §8.1): a reply that does not fit is withheld, counted, and the
 * flow closed. Unvalidated flows have their own budget (half of
 * udp-max-flows and of maxclients, udp-max-unvalidated-per-prefix per
 * source /24) and a short idle timeout, so they never take the room of TCP
 * clients or validated flows. redis/README.md documents the handshake. */

#include "server.h"
#include "connhelpers.h"
#include "monotonic.h"

#include <fragnet.h>

#include "resp_scan.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <time.h>

udpConfig udp_config;

/* Keep polling without sleeping this long after the last datagram. */
#define UDP_SPIN_US 50000
/* With the queue idle, wake up at least this often (ms) to poll it. */
#define UDP_IDLE_POLL_MS 1
/* Flows examined per reaper call. */
#define UDP_REAP_BUDGET 64
/* Request bytes waiting in all flows together; beyond, datagrams are dropped
 * (per flow the bound is udp-max-queued-datagrams). */
#define UDP_MAX_QUEUED_BYTES (64 * 1024 * 1024)
/* Until its address is validated, a flow gets at most this many times the
 * bytes it sent (QUIC's anti-amplification limit, RFC 9000 §8.1). */
#define UDP_AMPLIFICATION 3
/* Unvalidated flows are counted per source prefix of this length. */
#define UDP_SOURCE_PREFIX_LEN 24
/* A cookie: 8 hex digits of the time it was issued (seconds), then 16 of
 * SipHash-2-4, keyed by a secret drawn at start, over the peer's address,
 * port and that time. "+<cookie>\r\n" (27 bytes) fits within 3x of the
 * shortest request, the inline "UDPCOOKIE\n" (10 bytes). */
#define UDP_COOKIE_LEN 24
/* Seconds a cookie stays valid after it was issued. */
#define UDP_COOKIE_LIFETIME 120
/* Request datagrams up to this size (the payload of a 1500-byte frame) are
 * copied into buffers of this size, recycled through a free list, instead
 * of a malloc and free per request. At most UDP_POOL_MAX such buffers exist
 * (1.5 MB, in use or free): beyond, and for larger datagrams (jumbo frames,
 * reassembled fragments), a buffer of the datagram's size is allocated, so
 * a flood of small datagrams queued in many flows holds no more memory
 * than their payload (UDP_MAX_QUEUED_BYTES) plus the pool. */
#define UDP_POOL_DGRAM 1472
#define UDP_POOL_MAX 1024

uint64_t siphash(const uint8_t *in, const size_t inlen, const uint8_t *k); /* siphash.c */

/* ------------------------------------------------------------------------ */

typedef struct udpLink {
    struct udpLink *prev, *next;
} udpLink;

static void linkInit(udpLink *h) { h->prev = h->next = h; }
static int linkEmpty(const udpLink *h) { return h->next == h; }
static int linkLinked(const udpLink *l) { return l->next != NULL; }

static void linkRemove(udpLink *l) {
    if (!linkLinked(l)) return;
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->prev = l->next = NULL;
}

static void linkTail(udpLink *h, udpLink *l) {
    linkRemove(l);
    l->prev = h->prev;
    l->next = h;
    h->prev->next = l;
    h->prev = l;
}

/* Move every element of 'from' to the empty list 'to'. */
static void linkSplice(udpLink *from, udpLink *to) {
    linkInit(to);
    if (linkEmpty(from)) return;
    to->next = from->next;
    to->prev = from->prev;
    to->next->prev = to;
    to->prev->next = to;
    linkInit(from);
}

typedef struct udpDgram {
    struct udpDgram *next;
    size_t len, off;
    int pooled;                 /* a UDP_POOL_DGRAM buffer, back to udp.pool when done */
    char data[];
} udpDgram;

typedef struct udpFlow {
    connection conn;            /* first: a connection * is a udpFlow * */
    uint32_t addr;              /* peer, network order */
    uint16_t port;
    int dispatching;            /* connRead() may deliver the head datagram */
    int validated;              /* cookie or trusted prefix: no amplification limit */
    unsigned long long rx_bytes, tx_bytes; /* datagram payload, for that limit */
    udpDgram *rx_head, *rx_tail;
    int rx_count;
    long long last_rx_ms;       /* monotonic clock */
    udpLink lru, pending, writers;
} udpFlow;

#define flowOf(l, member) ((udpFlow *)((char *)(l) - offsetof(udpFlow, member)))

static struct {
    struct fragnet *fn;
    struct fragnet_queue *q;
    uint32_t addr;              /* ours, network order */
    uint16_t port;
    dict *flows;
    unsigned long n_validated, n_unvalidated;
    dict *prefixes;             /* source /24 -> its unvalidated flows */
    /* Least recently heard first, one list per idle timeout. */
    udpLink lru_validated, lru_unvalidated;
    udpLink pending, writers;
    struct { uint32_t net, mask; } *trusted; /* udp-trusted-prefixes, network order */
    int n_trusted;
    uint8_t cookie_key[16];
    uint64_t hash_key;          /* flowHash's secret */
    monotime last_rx_us;
    /* Read once per poll (udpProcessEvents) for every datagram of the burst:
     * a flow's last request time and the spin deadline need no finer. */
    monotime now_us;
    size_t queued_bytes;        /* request bytes waiting in all flows */
    udpDgram *pool;             /* free UDP_POOL_DGRAM buffers (dgramAlloc) */
    int pool_total;             /* UDP_POOL_DGRAM buffers, in use or free */
    char *scratch;              /* writev gather buffer */
    size_t buf_room;            /* fragnet_buf_room(): zero-copy when it fits */
    const char **ports;
    struct fragnet_neighbour *neigh;
    struct redisCommand *script_debug; /* refused over UDP (udpCommandRefusal) */
    pid_t pid;
    cpu_set_t cpus;             /* affinity before the EAL pinned us */
    /* Counters, in INFO udp and logged at shutdown. */
    unsigned long long rx_dgrams, rx_dropped, tx_dgrams, tx_busy, tx_errors;
    unsigned long long flows_opened, flows_reaped, flows_denied;
    unsigned long long refused_max_flows, refused_unvalidated, refused_prefix, refused_maxclients;
    unsigned long long cookies_issued, cookies_accepted, cookies_rejected;
    unsigned long long replies_withheld, bytes_withheld;
    unsigned long long rx_partial_unvalidated, commands_refused_unvalidated;
} udp;

static ConnectionType CT_UDP;

static inline uint64_t flowKey(uint32_t addr, uint16_t port) {
    return ((uint64_t)addr << 16) | port;
}

/* Every datagram looks its flow up, so the hash is SplitMix64's finalizer
 * over the key plus a secret drawn at start, not SipHash over a buffer. The
 * keys are the peers' choice and a peer never sees a hash, so the secret is
 * what keeps one from aiming its flows at one bucket chain. */
static uint64_t flowHash(const void *key) {
    uint64_t z = (uint64_t)(uintptr_t)key + udp.hash_key;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* No keyCompare: the keys are integers, compared as pointers by dict.c. */
static dictType flowDictType = {
    .hashFunction = flowHash,
};

static udpFlow *flowLookup(uint32_t addr, uint16_t port) {
    dictEntry *de = dictFind(udp.flows, (void *)(uintptr_t)flowKey(addr, port));
    return de ? dictGetVal(de) : NULL;
}

static udpLink *flowLru(udpFlow *f) {
    return f->validated ? &udp.lru_validated : &udp.lru_unvalidated;
}

/* ------------------------------ flow budget ------------------------------ */

static void *prefixKey(uint32_t addr) {
    uint32_t mask = ~0u << (32 - UDP_SOURCE_PREFIX_LEN);
    return (void *)(uintptr_t)(ntohl(addr) & mask);
}

static unsigned long prefixCount(uint32_t addr) {
    dictEntry *de = dictFind(udp.prefixes, prefixKey(addr));
    return de ? dictGetUnsignedIntegerVal(de) : 0;
}

static void prefixAdd(uint32_t addr, int delta) {
    dictEntry *existing, *de = dictAddRaw(udp.prefixes, prefixKey(addr), &existing);
    if (de)
        dictSetUnsignedIntegerVal(de, 0); /* new: dictAddRaw leaves the value unset */
    else
        de = existing;
    uint64_t n = dictGetUnsignedIntegerVal(de) + delta;
    if (n == 0)
        dictDelete(udp.prefixes, prefixKey(addr));
    else
        dictSetUnsignedIntegerVal(de, n);
}

/* Unvalidated flows at most: half of udp-max-flows and half of maxclients,
 * so spoofed flows leave room for validated flows and TCP clients. */
static unsigned long unvalidatedCap(void) {
    unsigned long a = (unsigned long)udp_config.max_flows / 2, b = server.maxclients / 2;
    return a < b ? a : b;
}

static int isTrusted(uint32_t addr) {
    for (int i = 0; i < udp.n_trusted; i++)
        if ((addr & udp.trusted[i].mask) == udp.trusted[i].net) return 1;
    return 0;
}

/* Bytes a flow may still be sent. */
static unsigned long long flowAllowance(const udpFlow *f) {
    unsigned long long limit = f->rx_bytes * UDP_AMPLIFICATION;

    if (f->validated) return ULLONG_MAX;
    return limit > f->tx_bytes ? limit - f->tx_bytes : 0;
}

static void flowValidate(udpFlow *f) {
    if (f->validated) return;
    prefixAdd(f->addr, -1);
    udp.n_unvalidated--;
    udp.n_validated++;
    f->validated = 1;
    linkTail(flowLru(f), &f->lru);
}

/* A reply that is no client's output (protected mode, cookies): sent only
 * within 'allowance', otherwise counted as withheld. */
static void sendDirect(udpFlow *f, uint32_t addr, uint16_t port, unsigned long long allowance,
                       const char *text, size_t len) {
    if (len > allowance) {
        udp.replies_withheld++;
        udp.bytes_withheld += len;
        return;
    }
    if (fragnet_udp_send(udp.q, udp.port, addr, port, text, len) < 0) {
        udp.tx_errors++;
        return;
    }
    udp.tx_dgrams++;
    if (f) f->tx_bytes += len;
}

/* ------------------------------- cookies -------------------------------- */

static void cookieFormat(uint32_t addr, uint16_t port, uint32_t issued, char *out) {
    uint8_t msg[10];
    char buf[UDP_COOKIE_LEN + 1];

    memcpy(msg, &addr, 4);
    memcpy(msg + 4, &port, 2);
    memcpy(msg + 6, &issued, 4);
    snprintf(buf, sizeof(buf), "%08x%016llx", issued,
             (unsigned long long)siphash(msg, sizeof(msg), udp.cookie_key));
    memcpy(out, buf, UDP_COOKIE_LEN);
}

static int cookieValid(uint32_t addr, uint16_t port, const char *tok, size_t len) {
    char expect[UDP_COOKIE_LEN];
    uint32_t issued = 0, now = (uint32_t)time(NULL);
    unsigned char diff = 0;

    if (len != UDP_COOKIE_LEN) return 0;
    for (int i = 0; i < 8; i++) {
        char c = tok[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0) return 0;
        issued = issued << 4 | (uint32_t)v;
    }
    /* Issued in the last UDP_COOKIE_LIFETIME seconds (a second of slack
     * for a clock step). */
    if ((int32_t)(now - issued) > UDP_COOKIE_LIFETIME || (int32_t)(issued - now) > 1) return 0;
    cookieFormat(addr, port, issued, expect);
    for (int i = 0; i < UDP_COOKIE_LEN; i++) diff |= (unsigned char)(expect[i] ^ tok[i]);
    return diff == 0;
}

/* Reads "$<n>\r\n<n bytes>\r\n" at p[*pos]. */
static int readBulk(const char *p, size_t len, size_t *pos, const char **s, size_t *n) {
    size_t i = *pos, v = 0;
    int digits = 0;

    if (i >= len || p[i++] != '$') return 0;
    while (i < len && p[i] >= '0' && p[i] <= '9' && digits < 5) {
        v = v * 10 + (size_t)(p[i++] - '0');
        digits++;
    }
    if (!digits || len - i < 2 || p[i] != '\r' || p[i + 1] != '\n') return 0;
    i += 2;
    if (v > len - i || len - i - v < 2 || p[i + v] != '\r' || p[i + v + 1] != '\n') return 0;
    *s = p + i;
    *n = v;
    *pos = i + v + 2;
    return 1;
}

/* Is the datagram exactly one UDPCOOKIE command (RESP or inline)? Then
 * *tok is its argument, or NULL for a request without one. */
static int isCookieCommand(const char *p, size_t len, const char **tok, size_t *tok_len) {
    static const char name[] = "UDPCOOKIE";
    const size_t nlen = sizeof(name) - 1;
    const char *s;
    size_t n, pos = 4;

    *tok = NULL;
    *tok_len = 0;
    /* Every request comes through here: turn away all but UDPCOOKIE on the
     * first bytes, "*1\r\n$9\r\n" or "*2\r\n$9\r\n" (its 9-byte name as
     * a bulk string) or an inline 'U', before parsing anything. */
    if (len < nlen + 1) return 0;
    if (p[0] == '*' ? len < 8 + nlen + 2 || memcmp(p + 4, "$9\r\n", 4) : (p[0] | 0x20) != 'u')
        return 0;
    if (p[0] == '*' && (p[1] == '1' || p[1] == '2') && p[2] == '\r' && p[3] == '\n') {
        if (!readBulk(p, len, &pos, &s, &n) || n != nlen || strncasecmp(s, name, nlen)) return 0;
        if (p[1] == '2' && !readBulk(p, len, &pos, tok, tok_len)) return 0;
        return pos == len;
    }
    /* Inline: "UDPCOOKIE[ <cookie>]\r\n" (or "\n"). */
    if (p[len - 1] != '\n' || strncasecmp(p, name, nlen)) return 0;
    len -= len >= 2 && p[len - 2] == '\r' ? 2 : 1;
    if (len == nlen) return 1;
    if (p[nlen] != ' ' || len == nlen + 1 || memchr(p + nlen + 1, ' ', len - nlen - 1)) return 0;
    *tok = p + nlen + 1;
    *tok_len = len - nlen - 1;
    return 1;
}

/* ----------------------------- request buffers ---------------------------- */

static udpDgram *dgramAlloc(size_t len) {
    udpDgram *g = udp.pool;

    if (len <= UDP_POOL_DGRAM && g) {
        udp.pool = g->next;
        return g;
    }
    if (len <= UDP_POOL_DGRAM && udp.pool_total < UDP_POOL_MAX) {
        g = zmalloc(sizeof(*g) + UDP_POOL_DGRAM);
        g->pooled = 1;
        udp.pool_total++;
        return g;
    }
    g = zmalloc(sizeof(*g) + len);
    g->pooled = 0;
    return g;
}

static void dgramFree(udpDgram *g) {
    if (!g->pooled) {
        zfree(g);
        return;
    }
    g->next = udp.pool;
    udp.pool = g;
}

/* ---------------------------- connection type ---------------------------- */

static void flowFree(udpFlow *f) {
    dictDelete(udp.flows, (void *)(uintptr_t)flowKey(f->addr, f->port));
    if (f->validated) {
        udp.n_validated--;
    } else {
        udp.n_unvalidated--;
        prefixAdd(f->addr, -1);
    }
    linkRemove(&f->lru);
    linkRemove(&f->pending);
    linkRemove(&f->writers);
    while (f->rx_head) {
        udpDgram *g = f->rx_head;
        f->rx_head = g->next;
        udp.queued_bytes -= g->len;
        dgramFree(g);
    }
    zfree(f);
}

static void udpConnClose(connection *conn) {
    if (connHasRefs(conn)) {
        conn->flags |= CONN_FLAG_CLOSE_SCHEDULED;
        return;
    }
    flowFree((udpFlow *)conn);
}

static int udpConnAccept(connection *conn, ConnectionCallbackFunc accept_handler) {
    int ret = C_OK;

    if (conn->state != CONN_STATE_ACCEPTING) return C_ERR;
    conn->state = CONN_STATE_CONNECTED;
    connIncrRefs(conn);
    if (!callHandler(conn, accept_handler)) ret = C_ERR;
    connDecrRefs(conn);
    return ret;
}

/* A reply over an unvalidated flow's allowance: none of it is sent, only a
 * short error if that still fits, and the flow fails (Redis frees the client
 * on the write error), so the peer gets nothing more. */
static void flowWithhold(udpFlow *f, size_t len) {
    static const char err[] = "-ERR reply withheld: validate with UDPCOOKIE\r\n";

    udp.replies_withheld++;
    udp.bytes_withheld += len;
    sendDirect(f, f->addr, f->port, flowAllowance(f), err, sizeof(err) - 1);
    f->conn.last_errno = EMSGSIZE;
    f->conn.state = CONN_STATE_ERROR;
}

/* One datagram: at most udp-max-datagram bytes of the iovecs. Returns the
 * bytes sent, or -1: with the state still CONNECTED when the queue is out of
 * buffers (Redis retries from the write handler), CONN_STATE_ERROR when the
 * peer cannot be reached, the output filter dropped the reply, or the reply
 * is withheld by the amplification limit. Inlined into udpConnWrite, where
 * the one iovec folds the gather loops away (every plain reply). */
static inline __attribute__((always_inline)) int udpSendv(udpFlow *f, const struct iovec *iov, int iovcnt) {
    connection *conn = &f->conn;
    size_t max = (size_t)udp_config.max_datagram, len = 0;
    int i, ret;

    if (conn->state != CONN_STATE_CONNECTED && conn->state != CONN_STATE_ACCEPTING) {
        conn->last_errno = ENOTCONN;
        return -1;
    }
    if (!udp.q) { /* forked child */
        conn->last_errno = ENOTCONN;
        conn->state = CONN_STATE_ERROR;
        return -1;
    }
    for (i = 0; i < iovcnt && len < max; i++)
        len += iov[i].iov_len < max - len ? iov[i].iov_len : max - len;
    if (len == 0) return 0;
    /* All that this call hands over must fit, not just this datagram.
     * Redis hands over at most about 64 KB a call, so a longer reply may
     * leave in part before the rest is withheld: the allowance holds, the
     * client sees a cut reply (redis/README.md). */
    if (!f->validated) {
        unsigned long long pending = 0;
        for (i = 0; i < iovcnt; i++) pending += iov[i].iov_len;
        if (pending > flowAllowance(f)) {
            flowWithhold(f, pending);
            return -1;
        }
    }

    if (iovcnt == 1) {
        ret = fragnet_udp_send(udp.q, udp.port, f->addr, f->port, iov[0].iov_base, len);
    } else {
        /* Gather straight into a device buffer when one datagram fits. */
        struct fragnet_buf *b = NULL;
        char *dst = udp.scratch;
        void *data;

        if (len <= udp.buf_room && (b = fragnet_buf_alloc(udp.q, len, &data)) != NULL)
            dst = data;
        size_t left = len;
        for (i = 0; left; i++) {
            size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;
            memcpy(dst, iov[i].iov_base, n);
            dst += n;
            left -= n;
        }
        if (b)
            ret = fragnet_udp_send_buf(udp.q, b, udp.port, f->addr, f->port);
        else
            ret = fragnet_udp_send(udp.q, udp.port, f->addr, f->port, udp.scratch, len);
    }
    if (ret < 0) {
        conn->last_errno = -ret;
        if (ret == -ENOBUFS) {
            udp.tx_busy++;
        } else {
            udp.tx_errors++;
            conn->state = CONN_STATE_ERROR;
        }
        return -1;
    }
    udp.tx_dgrams++;
    f->tx_bytes += len;
    return (int)len;
}

static int udpConnWrite(connection *conn, const void *data, size_t data_len) {
    struct iovec iov = { .iov_base = (void *)data, .iov_len = data_len };
    return udpSendv((udpFlow *)conn, &iov, 1);
}

static int udpConnWritev(connection *conn, const struct iovec *iov, int iovcnt) {
    return udpSendv((udpFlow *)conn, iov, iovcnt);
}

/* Never crosses a datagram boundary. -1 with the state still CONNECTED means
 * "nothing now" (never 0, which Redis takes for EOF). */
static int udpConnRead(connection *conn, void *buf, size_t buf_len) {
    udpFlow *f = (udpFlow *)conn;
    udpDgram *g = f->rx_head;

    if (conn->state != CONN_STATE_CONNECTED) return -1;
    if (!f->dispatching || !g || g->off == g->len || buf_len == 0) {
        conn->last_errno = EAGAIN;
        return -1;
    }
    size_t n = g->len - g->off;
    if (n > buf_len) n = buf_len;
    memcpy(buf, g->data + g->off, n);
    g->off += n;
    return (int)n;
}

static int udpConnSetWriteHandler(connection *conn, ConnectionCallbackFunc func, int barrier) {
    udpFlow *f = (udpFlow *)conn;

    conn->write_handler = func;
    if (barrier)
        conn->flags |= CONN_FLAG_WRITE_BARRIER;
    else
        conn->flags &= ~CONN_FLAG_WRITE_BARRIER;
    /* Write handlers run from udpFlush(), after the AOF flush, so the
     * barrier holds by construction. */
    if (func)
        linkTail(&udp.writers, &f->writers);
    else
        linkRemove(&f->writers);
    return C_OK;
}

static int udpConnSetReadHandler(connection *conn, ConnectionCallbackFunc func) {
    udpFlow *f = (udpFlow *)conn;

    conn->read_handler = func;
    if (func && f->rx_head && !linkLinked(&f->pending))
        linkTail(&udp.pending, &f->pending);
    return C_OK;
}

static const char *udpConnGetLastError(connection *conn) {
    return conn->last_errno ? strerror(conn->last_errno) : NULL;
}

static int udpConnConnect(connection *conn, const char *addr, int port, const char *src_addr,
                          ConnectionCallbackFunc connect_handler) {
    UNUSED(addr); UNUSED(port); UNUSED(src_addr); UNUSED(connect_handler);
    conn->state = CONN_STATE_ERROR;
    conn->last_errno = ENOTSUP;
    return C_ERR;
}

static int udpConnBlockingConnect(connection *conn, const char *addr, int port, long long timeout) {
    UNUSED(addr); UNUSED(port); UNUSED(timeout);
    conn->state = CONN_STATE_ERROR;
    conn->last_errno = ENOTSUP;
    return C_ERR;
}

/* Blocking stream I/O (replication, the Lua debugger) is refused before it
 * can get here; these only keep a stray caller from hanging. */
static ssize_t udpConnSyncIO(connection *conn, char *ptr, ssize_t size, long long timeout) {
    UNUSED(ptr); UNUSED(size); UNUSED(timeout);
    conn->last_errno = ENOTSUP;
    return -1;
}

static int udpConnGetType(connection *conn) {
    UNUSED(conn);
    return CONN_TYPE_UDP;
}

static ConnectionType CT_UDP = {
    .ae_handler = NULL,
    .connect = udpConnConnect,
    .write = udpConnWrite,
    .writev = udpConnWritev,
    .read = udpConnRead,
    .close = udpConnClose,
    .accept = udpConnAccept,
    .set_write_handler = udpConnSetWriteHandler,
    .set_read_handler = udpConnSetReadHandler,
    .get_last_error = udpConnGetLastError,
    .blocking_connect = udpConnBlockingConnect,
    .sync_write = udpConnSyncIO,
    .sync_read = udpConnSyncIO,
    .sync_readline = udpConnSyncIO,
    .get_type = udpConnGetType,
};

int udpConnAddrToString(connection *conn, char *ip, size_t ip_len, int *port, int fd_to_str_type) {
    udpFlow *f = (udpFlow *)conn;
    int peer = fd_to_str_type == FD_TO_PEER_NAME;
    uint32_t a = peer ? f->addr : udp.addr;
    uint16_t p = peer ? f->port : udp.port;

    if (ip && ip_len && inet_ntop(AF_INET, &a, ip, ip_len) == NULL) {
        conn->last_errno = errno;
        return C_ERR;
    }
    if (port) *port = ntohs(p);
    return C_OK;
}

int udpConnFormatAddr(connection *conn, char *buf, size_t buf_len, int fd_to_str_type) {
    char ip[INET_ADDRSTRLEN];
    int port;

    if (udpConnAddrToString(conn, ip, sizeof(ip), &port, fd_to_str_type) == C_ERR)
        return snprintf(buf, buf_len, "?:0");
    return snprintf(buf, buf_len, "%s:%d", ip, port);
}

/* ------------------------------ receive path ----------------------------- */

/* A datagram of rx_len bytes from a peer we have no flow for. Protected
 * mode is checked first with a short reply within the amplification limit
 * (Redis's own DENIED text is a kilobyte). Then the UDP flow budget, whose
 * refusals are silent (a reply would go to whoever the source claims to
 * be), and the same admission as a TCP accept (maxclients, through
 * acceptCommonHandler). */
static udpFlow *flowAccept(uint32_t addr, uint16_t port, int validated, size_t rx_len) {
    char ip[INET_ADDRSTRLEN];

    if (server.protected_mode && DefaultUser->flags & USER_FLAG_NOPASS) {
        static const char err[] = "-DENIED Redis is in protected mode\r\n";
        sendDirect(NULL, addr, port, validated ? ULLONG_MAX : (unsigned long long)rx_len * UDP_AMPLIFICATION,
                   err, sizeof(err) - 1);
        server.stat_rejected_conn++;
        udp.flows_denied++;
        return NULL;
    }
    if (udp.n_validated + udp.n_unvalidated >= (unsigned long)udp_config.max_flows) {
        udp.refused_max_flows++;
        return NULL;
    }
    if (!validated && udp.n_unvalidated >= unvalidatedCap()) {
        udp.refused_unvalidated++;
        return NULL;
    }
    if (!validated && prefixCount(addr) >= (unsigned long)udp_config.max_unvalidated_per_prefix) {
        udp.refused_prefix++;
        return NULL;
    }

    udpFlow *f = zcalloc(sizeof(*f));
    f->conn.type = &CT_UDP;
    f->conn.state = CONN_STATE_ACCEPTING;
    f->conn.fd = -1;
    f->addr = addr;
    f->port = port;
    f->validated = validated;
    f->rx_bytes = rx_len;
    f->last_rx_ms = (long long)(udp.now_us / 1000);
    if (validated) {
        udp.n_validated++;
    } else {
        udp.n_unvalidated++;
        prefixAdd(addr, 1);
    }
    dictAdd(udp.flows, (void *)(uintptr_t)flowKey(addr, port), f);
    linkTail(flowLru(f), &f->lru);
    udp.flows_opened++;

    inet_ntop(AF_INET, &addr, ip, sizeof(ip));
    acceptCommonHandler(&f->conn, 0, ip);
    /* Refused (maxclients) or failed: the flow is gone already. */
    if ((f = flowLookup(addr, port)) == NULL) udp.refused_maxclients++;
    return f;
}

/* A datagram that is one UDPCOOKIE command, answered here, before any
 * client exists: without an argument, a cookie for this address and port
 * (no state is kept); with a valid cookie, the flow is validated (made if
 * it does not exist yet) and "+OK" comes back. Each reply fits within 3x
 * of its request, so cookies themselves amplify nothing. */
static void cookieExchange(udpFlow *f, const struct fragnet_dgram *d, const char *tok, size_t tok_len) {
    static const char bad[] = "-ERR invalid or expired UDP cookie\r\n";
    unsigned long long allowance;

    if (f) {
        if (f->conn.state != CONN_STATE_CONNECTED) {
            udp.rx_dropped++;
            return;
        }
        f->rx_bytes += d->len;
        f->last_rx_ms = (long long)(udp.now_us / 1000);
        linkTail(flowLru(f), &f->lru);
        allowance = flowAllowance(f);
    } else {
        allowance = isTrusted(d->src_addr) ? ULLONG_MAX : (unsigned long long)d->len * UDP_AMPLIFICATION;
    }
    if (!tok) {
        char reply[1 + UDP_COOKIE_LEN + 2];
        reply[0] = '+';
        cookieFormat(d->src_addr, d->src_port, (uint32_t)time(NULL), reply + 1);
        memcpy(reply + 1 + UDP_COOKIE_LEN, "\r\n", 2);
        udp.cookies_issued++;
        sendDirect(f, d->src_addr, d->src_port, allowance, reply, sizeof(reply));
        return;
    }
    if (!cookieValid(d->src_addr, d->src_port, tok, tok_len)) {
        udp.cookies_rejected++;
        sendDirect(f, d->src_addr, d->src_port, allowance, bad, sizeof(bad) - 1);
        return;
    }
    udp.cookies_accepted++;
    if (f)
        flowValidate(f);
    else if ((f = flowAccept(d->src_addr, d->src_port, 1, d->len)) == NULL)
        return; /* denied or refused, and told so where Redis tells */
    sendDirect(f, d->src_addr, d->src_port, flowAllowance(f), "+OK\r\n", 5);
}

/* Whether buf holds whole commands only: every multibulk request complete
 * (resp_scan_request), then perhaps inline commands, whose lines Redis caps
 * at 64 KB. An unvalidated flow must send its requests so: a multibulk
 * header announcing more than its datagram holds ($536870000) has Redis
 * reserve that much at once (up to proto-max-bulk-len) for a source that
 * may be anyone's. */
static int wholeRequests(const char *buf, size_t len) {
    size_t off = 0;

    while (off < len && buf[off] == '*') {
        enum resp_kind kind;
        long long n = resp_scan_request(buf + off, len - off, &kind);
        if (n <= 0) return 0;
        off += (size_t)n;
    }
    return 1;
}

static void udpRecv(struct fragnet_queue *q, const struct fragnet_dgram *d, void *arg) {
    UNUSED(q); UNUSED(arg);
    udp.rx_dgrams++;
    /* An empty datagram would read as EOF: it carries no command anyway. */
    if (d->len == 0) {
        udp.rx_dropped++;
        return;
    }
    udpFlow *f = flowLookup(d->src_addr, d->src_port);
    const char *tok;
    size_t tok_len;
    if (isCookieCommand(d->data, d->len, &tok, &tok_len)) {
        cookieExchange(f, d, tok, tok_len);
        return;
    }
    if (!(f ? f->validated : isTrusted(d->src_addr)) && !wholeRequests(d->data, d->len)) {
        udp.rx_partial_unvalidated++;
        return;
    }
    if (f)
        f->rx_bytes += d->len;
    else if (!(f = flowAccept(d->src_addr, d->src_port, isTrusted(d->src_addr), d->len)))
        return;
    if (f->rx_count >= udp_config.max_queued || f->conn.state != CONN_STATE_CONNECTED ||
        udp.queued_bytes + d->len > UDP_MAX_QUEUED_BYTES) {
        udp.rx_dropped++;
        return;
    }

    udpDgram *g = dgramAlloc(d->len);
    g->next = NULL;
    g->len = d->len;
    g->off = 0;
    memcpy(g->data, d->data, d->len);
    if (f->rx_tail) f->rx_tail->next = g; else f->rx_head = g;
    f->rx_tail = g;
    f->rx_count++;
    udp.queued_bytes += g->len;
    f->last_rx_ms = (long long)(udp.now_us / 1000);
    linkTail(flowLru(f), &f->lru);
    if (f->conn.read_handler && !linkLinked(&f->pending))
        linkTail(&udp.pending, &f->pending);
}

/* Feed one datagram to the flow's read handler. Returns 0 when the flow was
 * freed meanwhile. */
static int flowDispatch(udpFlow *f) {
    connection *conn = &f->conn;
    udpDgram *g = f->rx_head;

    f->dispatching = 1;
    for (;;) {
        size_t before = g->off;
        if (!callHandler(conn, conn->read_handler)) return 0;
        /* The handler reads at most its buffer's worth: call it again for
         * the rest of the datagram, but only while it makes progress. */
        if (g->off == g->len || g->off == before || !conn->read_handler) break;
    }
    f->dispatching = 0;
    if (g->off == g->len) {
        f->rx_head = g->next;
        if (!f->rx_head) f->rx_tail = NULL;
        f->rx_count--;
        udp.queued_bytes -= g->len;
        dgramFree(g);
    }
    return 1;
}

int udpProcessEvents(void) {
    udpLink round;
    int dispatched = 0;

    if (!udp.q) return 0;
    udp.now_us = getMonotonicUs();
    if (fragnet_poll(udp.q) > 0) udp.last_rx_us = udp.now_us;

    /* One datagram per flow per iteration, so that each datagram's replies
     * are written (and leave) together. */
    linkSplice(&udp.pending, &round);
    while (!linkEmpty(&round)) {
        udpFlow *f = flowOf(round.next, pending);
        linkRemove(&f->pending);
        if (!f->rx_head) continue;
        /* No read handler: a protected client (blocked in a script or while
         * loading); its datagrams wait. */
        if (!f->conn.read_handler || f->conn.state != CONN_STATE_CONNECTED) {
            if (f->conn.state == CONN_STATE_CONNECTED)
                linkTail(&udp.pending, &f->pending);
            continue;
        }
        dispatched++;
        if (!flowDispatch(f)) continue;
        if (f->rx_head && f->conn.read_handler)
            linkTail(&udp.pending, &f->pending);
    }
    return dispatched;
}

int udpFlush(void) {
    udpLink round;
    int n = 0;

    if (!udp.q) return 0;
    linkSplice(&udp.writers, &round);
    while (!linkEmpty(&round)) {
        udpFlow *f = flowOf(round.next, writers);
        /* Back on the list first: the handler removes itself when done. */
        linkTail(&udp.writers, &f->writers);
        if (f->conn.write_handler) {
            callHandler(&f->conn, f->conn.write_handler);
            n++;
        }
    }
    fragnet_flush(udp.q);
    return n;
}

int udpIsActive(void) {
    if (!udp.q) return 0;
    if (udp_config.busy_poll) return 1;
    if (!linkEmpty(&udp.pending) || !linkEmpty(&udp.writers)) return 1;
    /* beforeSleep asks right after its poll: that poll's clock will do. */
    return udp.now_us - udp.last_rx_us < UDP_SPIN_US;
}

/* UDP has no close: a flow that has not sent a request for 'limit' ms is
 * freed, unless it still has replies to send or, validated, is blocked
 * (BLPOP, WAIT, CLIENT PAUSE). An unvalidated one goes blocked or not: one
 * spoofed BLPOP each would otherwise hold the unvalidated budget for good. */
static void reapIdle(udpLink *lru, long long limit, long long now, int *budget) {
    while (!linkEmpty(lru) && (*budget)-- > 0) {
        udpFlow *f = flowOf(lru->next, lru);
        if (now - f->last_rx_ms < limit) break;
        client *c = connGetPrivateData(&f->conn);
        uint32_t addr = f->addr;
        uint16_t port = f->port;
        int blocked = (c && (c->flags & CLIENT_BLOCKED)) && f->validated;
        if (c && !blocked && !(c->flags & CLIENT_CLOSE_ASAP) &&
            !f->conn.write_handler && !clientHasPendingReplies(c)) {
            udp.flows_reaped++;
            freeClient(c);
        } else if (!c) {
            udp.flows_reaped++;
            connClose(&f->conn);
        }
        /* Still there (blocked, busy, or freed asynchronously): look again
         * after another timeout. */
        if ((f = flowLookup(addr, port)) != NULL) {
            f->last_rx_ms = now;
            linkTail(flowLru(f), &f->lru);
        }
    }
}

/* Bounds the epoll sleep while the queue is idle, and reaps idle flows:
 * validated ones after udp-idle-timeout, unvalidated ones after
 * udp-unvalidated-idle-timeout. */
static int udpTimerProc(struct aeEventLoop *el, long long id, void *data) {
    UNUSED(el); UNUSED(id); UNUSED(data);
    long long now = (long long)(getMonotonicUs() / 1000);
    int budget = UDP_REAP_BUDGET;

    reapIdle(&udp.lru_unvalidated, (long long)udp_config.unvalidated_idle_timeout * 1000, now, &budget);
    reapIdle(&udp.lru_validated, (long long)udp_config.idle_timeout * 1000, now, &budget);
    return UDP_IDLE_POLL_MS;
}

/* Runs for every command of every client: the connection's type first (a
 * pointer compare), then for UDP clients the allowance and the looked-up
 * command (SYNC and PSYNC share syncCommand; SCRIPT DEBUG is resolved once
 * by udpInit, by its original name so rename-command cannot hide it). */
const char *udpCommandRefusal(client *c) {
    struct redisCommand *cmd = c->cmd;

    if (!c->conn || c->conn->type != &CT_UDP) return NULL;
    /* The allowance is checked when replies leave (udpSendv), but a
     * datagram of 160 GETs of a 1 MB value builds 160 MB of replies first:
     * once an unvalidated flow's waiting replies are past it, its further
     * commands do not run (their short errors are withheld with the rest). */
    udpFlow *f = (udpFlow *)c->conn;
    if (!f->validated && c->bufpos + c->reply_bytes > flowAllowance(f)) {
        udp.commands_refused_unvalidated++;
        return "-ERR reply withheld: validate with UDPCOOKIE";
    }
    if (cmd->proc != syncCommand && cmd->proc != replconfCommand && cmd != udp.script_debug)
        return NULL;
    if (cmd == udp.script_debug)
        return "-ERR SCRIPT DEBUG is not available over UDP: the debugger needs a TCP connection";
    return "-ERR replication is not available over UDP: replicas connect over TCP";
}

sds udpGenInfoString(sds info) {
    info = sdscatprintf(info, "# UDP\r\nudp_port:%d\r\n", udp.flows ? udp_config.port : 0);
    if (!udp.flows) return info;
    return sdscatprintf(info,
        "udp_flows:%lu\r\n"
        "udp_flows_validated:%lu\r\n"
        "udp_flows_unvalidated:%lu\r\n"
        "udp_max_flows:%d\r\n"
        "udp_max_unvalidated_flows:%lu\r\n"
        "udp_max_unvalidated_per_prefix:%d\r\n"
        "udp_trusted_prefixes:%d\r\n"
        "udp_flows_opened:%llu\r\n"
        "udp_flows_reaped:%llu\r\n"
        "udp_flows_denied_protected_mode:%llu\r\n"
        "udp_flows_refused_max_flows:%llu\r\n"
        "udp_flows_refused_unvalidated:%llu\r\n"
        "udp_flows_refused_prefix:%llu\r\n"
        "udp_flows_refused_maxclients:%llu\r\n"
        "udp_cookies_issued:%llu\r\n"
        "udp_cookies_accepted:%llu\r\n"
        "udp_cookies_rejected:%llu\r\n"
        "udp_replies_withheld:%llu\r\n"
        "udp_bytes_withheld:%llu\r\n"
        "udp_commands_refused_unvalidated:%llu\r\n"
        "udp_rx_datagrams:%llu\r\n"
        "udp_rx_dropped:%llu\r\n"
        "udp_rx_partial_unvalidated:%llu\r\n"
        "udp_tx_datagrams:%llu\r\n"
        "udp_tx_deferred:%llu\r\n"
        "udp_tx_errors:%llu\r\n",
        udp.n_validated + udp.n_unvalidated, udp.n_validated, udp.n_unvalidated,
        udp_config.max_flows, unvalidatedCap(), udp_config.max_unvalidated_per_prefix, udp.n_trusted,
        udp.flows_opened, udp.flows_reaped, udp.flows_denied,
        udp.refused_max_flows, udp.refused_unvalidated, udp.refused_prefix, udp.refused_maxclients,
        udp.cookies_issued, udp.cookies_accepted, udp.cookies_rejected,
        udp.replies_withheld, udp.bytes_withheld, udp.commands_refused_unvalidated,
        udp.rx_dgrams, udp.rx_dropped, udp.rx_partial_unvalidated,
        udp.tx_dgrams, udp.tx_busy, udp.tx_errors);
}

/* ------------------------------- start/stop ------------------------------ */

static void udpAtForkChild(void) {
    /* The child (BGSAVE, AOF rewrite) must never touch the queue, and should
     * not compete with the polling core unless bgsave_cpulist says so (Redis
     * applies that after this). */
    udp.q = NULL;
    udp.fn = NULL;
    sched_setaffinity(0, sizeof(udp.cpus), &udp.cpus);
}

static void udpShutdown(void) {
    if (!udp.fn || getpid() != udp.pid) return;
    serverLog(LL_NOTICE,
        "UDP transport: %llu datagrams in (%llu dropped), %llu out (%llu deferred, %llu errors), "
        "%llu flows opened, %llu reaped, %llu denied, %llu refused; %llu replies (%llu bytes) withheld",
        udp.rx_dgrams, udp.rx_dropped, udp.tx_dgrams, udp.tx_busy, udp.tx_errors,
        udp.flows_opened, udp.flows_reaped, udp.flows_denied,
        udp.refused_max_flows + udp.refused_unvalidated + udp.refused_prefix + udp.refused_maxclients,
        udp.replies_withheld, udp.bytes_withheld);
    struct fragnet_queue_stats st = { .sz = sizeof(st) };
    unsigned n_drops = fragnet_drop_count();
    uint64_t *counts = zcalloc(n_drops * sizeof(*counts));
    if (fragnet_queue_stats(udp.fn, (unsigned)udp_config.queue, &st) == 0 &&
        fragnet_queue_drops(udp.fn, (unsigned)udp_config.queue, counts, n_drops) >= 0) {
        sds drops = sdsempty();
        for (unsigned i = 0; i < n_drops; i++)
            if (counts[i]) drops = sdscatprintf(drops, " %s=%llu", fragnet_drop_name(i),
                                                (unsigned long long)counts[i]);
        serverLog(LL_NOTICE, "UDP transport: queue rx %llu packets, tx %llu packets, "
                  "busy %.3f s (polls that received, with the work until the next); drops:%s",
                  (unsigned long long)st.rx_packets, (unsigned long long)st.tx_packets,
                  st.busy_ns / 1e9, sdslen(drops) ? drops : " none");
        sdsfree(drops);
    }
    zfree(counts);
    fragnet_close(udp.fn);
    udp.fn = NULL;
    udp.q = NULL;
}

static void udpFatal(const char *fmt, ...) {
    va_list ap;
    char msg[512];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    serverLog(LL_WARNING, "UDP transport: %s", msg);
    exit(1);
}

static int parseIPv4(const char *s, uint32_t *addr) {
    struct in_addr in;
    if (inet_pton(AF_INET, s, &in) != 1) return -1;
    *addr = in.s_addr;
    return 0;
}

static void parseTrusted(void) {
    int argc, i;
    sds *argv;

    if (!udp_config.trusted_prefixes) return;
    argv = sdssplitargs(udp_config.trusted_prefixes, &argc);
    if (!argv) udpFatal("udp-trusted-prefixes: unbalanced quotes");
    udp.trusted = zcalloc(sizeof(*udp.trusted) * (argc ? argc : 1));
    for (i = 0; i < argc; i++) {
        char *slash = strchr(argv[i], '/'), *end;
        long plen = 32;
        if (slash) {
            *slash = '\0';
            plen = strtol(slash + 1, &end, 10);
            if (*end || end == slash + 1 || plen < 0 || plen > 32)
                udpFatal("udp-trusted-prefixes: bad prefix length in '%s/%s'", argv[i], slash + 1);
        }
        if (parseIPv4(argv[i], &udp.trusted[i].net) < 0)
            udpFatal("udp-trusted-prefixes: '%s' is not an IPv4 address", argv[i]);
        udp.trusted[i].mask = htonl(plen ? ~0u << (32 - plen) : 0);
        if (udp.trusted[i].net & ~udp.trusted[i].mask)
            udpFatal("udp-trusted-prefixes: '%s/%ld' has host bits set", argv[i], plen);
    }
    udp.n_trusted = argc;
    sdsfreesplitres(argv, argc);
}

static void parseNeighbours(struct fragnet_config *cfg) {
    int argc, i;
    sds *argv;

    if (!udp_config.neighbours) return;
    argv = sdssplitargs(udp_config.neighbours, &argc);
    if (!argv) udpFatal("udp-neighbours: unbalanced quotes");
    udp.neigh = zcalloc(sizeof(*udp.neigh) * (argc ? argc : 1));
    for (i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        unsigned int m[6];
        char tail;
        if (!eq) udpFatal("udp-neighbours: '%s' is not IP=MAC", argv[i]);
        *eq = '\0';
        if (parseIPv4(argv[i], &udp.neigh[i].addr) < 0 ||
            sscanf(eq + 1, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &tail) != 6)
            udpFatal("udp-neighbours: '%s=%s' is not IP=MAC", argv[i], eq + 1);
        for (int j = 0; j < 6; j++) {
            if (m[j] > 0xff) udpFatal("udp-neighbours: bad MAC '%s'", eq + 1);
            udp.neigh[i].mac[j] = (uint8_t)m[j];
        }
    }
    cfg->neighbours = udp.neigh;
    cfg->n_neighbours = (unsigned)argc;
    sdsfreesplitres(argv, argc);
}

void udpInit(void) {
    struct fragnet_config cfg;
    int argc, i;
    sds *argv;

    if (!udp_config.port) return;
    if (server.io_threads_num > 1)
        udpFatal("udp-port needs io-threads 1 (one core polls the queue)");
    if (!udp_config.dpdk_ports) udpFatal("udp-port is set but udp-dpdk-ports is empty");
    if (!udp_config.address) udpFatal("udp-port is set but udp-address is empty");

    memset(&cfg, 0, sizeof(cfg));
    cfg.sz = sizeof(cfg);

    char addr[64], *slash;
    snprintf(addr, sizeof(addr), "%s", udp_config.address);
    long plen = 32;
    if ((slash = strchr(addr, '/')) != NULL) {
        char *end;
        *slash = '\0';
        plen = strtol(slash + 1, &end, 10);
        if (*end || plen < 1 || plen > 32) udpFatal("udp-address: bad prefix length in '%s'", udp_config.address);
    }
    if (parseIPv4(addr, &udp.addr) < 0) udpFatal("udp-address: '%s' is not an IPv4 address", udp_config.address);
    cfg.ipv4_addr = udp.addr;
    cfg.prefix_len = (uint8_t)plen;
    if (udp_config.gateway && parseIPv4(udp_config.gateway, &cfg.gateway) < 0)
        udpFatal("udp-gateway: '%s' is not an IPv4 address", udp_config.gateway);

    argv = sdssplitargs(udp_config.dpdk_ports, &argc);
    if (!argv || argc == 0) udpFatal("udp-dpdk-ports: no port given");
    udp.ports = zcalloc(sizeof(char *) * (argc + 1));
    for (i = 0; i < argc; i++) udp.ports[i] = zstrdup(argv[i]);
    sdsfreesplitres(argv, argc);

    cfg.app_name = udp_config.app_name && udp_config.app_name[0] ? udp_config.app_name : NULL;
    cfg.ports = udp.ports;
    cfg.n_queues = (unsigned)udp_config.n_queues;
    cfg.lcores = udp_config.lcores;
    cfg.eal_args = udp_config.eal_args;
    cfg.mtu = (uint16_t)udp_config.mtu;
    cfg.idle = FRAGNET_IDLE_BUSY;
    cfg.flags = FRAGNET_F_NO_SIGNALS | (udp_config.require_rules ? 0 : FRAGNET_F_UNFILTERED);
    cfg.daemon_socket = udp_config.daemon_socket;
    parseNeighbours(&cfg);
    parseTrusted();

    /* The EAL pins this thread to its lcore; forked children get the old
     * mask back (udpAtForkChild). */
    udp.pid = getpid();
    sched_getaffinity(0, sizeof(udp.cpus), &udp.cpus);
    udp.fn = fragnet_open(&cfg);
    if (!udp.fn && errno == ENOTCONN)
        udpFatal("fragnetd is not answering at %s and udp-require-rules is yes",
                 cfg.daemon_socket ? cfg.daemon_socket :
                 getenv("FRAGNET_DAEMON_SOCKET") ? getenv("FRAGNET_DAEMON_SOCKET") : "the default socket");
    if (!udp.fn) udpFatal("fragnet_open failed: %s", strerror(errno));
    udp.q = fragnet_queue(udp.fn, (unsigned)udp_config.queue);
    if (!udp.q)
        udpFatal("udp-queue %d: the port(s) give %u queue(s)", udp_config.queue,
                 fragnet_queue_count(udp.fn));
    udp.port = htons((uint16_t)udp_config.port);
    int ret = fragnet_udp_bind(udp.fn, udp.port, udpRecv, NULL);
    if (ret < 0) udpFatal("cannot bind UDP port %d: %s", udp_config.port, strerror(-ret));

    udp.script_debug = lookupCommandByCStringLogic(server.orig_commands, "script|debug");
    if (!udp.script_debug) udpFatal("no SCRIPT DEBUG command to refuse over UDP");
    getRandomBytes((unsigned char *)&udp.hash_key, sizeof(udp.hash_key));
    udp.flows = dictCreate(&flowDictType);
    udp.prefixes = dictCreate(&flowDictType);
    getRandomBytes(udp.cookie_key, sizeof(udp.cookie_key));
    linkInit(&udp.lru_validated);
    linkInit(&udp.lru_unvalidated);
    linkInit(&udp.pending);
    linkInit(&udp.writers);
    udp.scratch = zmalloc(udp_config.max_datagram);
    udp.buf_room = fragnet_buf_room(udp.q);
    udp.now_us = udp.last_rx_us = getMonotonicUs();
    if (aeCreateTimeEvent(server.el, UDP_IDLE_POLL_MS, udpTimerProc, NULL, NULL) == AE_ERR)
        udpFatal("cannot create the poll timer");
    pthread_atfork(NULL, NULL, udpAtForkChild);
    atexit(udpShutdown);

    struct fragnet_queue_stats st = { .sz = sizeof(st) };
    fragnet_queue_stats(udp.fn, (unsigned)udp_config.queue, &st);
    serverLog(LL_NOTICE,
        "UDP transport: RESP on %s:%d, queue %d of %u, max datagram %d, idle timeout %ds, "
        "%d flows (%lu unvalidated, %d per /%d), %d trusted prefixes, %s%s",
        addr, udp_config.port, udp_config.queue, fragnet_queue_count(udp.fn),
        udp_config.max_datagram, udp_config.idle_timeout, udp_config.max_flows, unvalidatedCap(),
        udp_config.max_unvalidated_per_prefix, UDP_SOURCE_PREFIX_LEN, udp.n_trusted,
        st.unfiltered ? "UNFILTERED (no fragnetd rules)" : "rules from fragnetd for application ",
        st.unfiltered ? "" : cfg.app_name ? cfg.app_name : "fragnet");
}
