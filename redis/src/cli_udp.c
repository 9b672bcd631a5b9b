/* redis-cli --udp (see cli_udp.h). */
#include "cli_udp.h"
#include "udp_flow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The flow's error, as one redis-cli understands: the "connection" is gone. */
static void flowError(redisContext *c, struct udp_flow *f) {
    c->err = REDIS_ERR_EOF;
    snprintf(c->errstr, sizeof(c->errstr), "%s", f->errstr);
}

static ssize_t udpRead(redisContext *c, char *buf, size_t size) {
    struct udp_flow *f = c->privctx;
    size_t n;

    if (f->ready == 0 && udp_flow_wait(f) < 0) {
        flowError(c, f);
        return -1;
    }
    n = f->ready < size ? f->ready : size;
    memcpy(buf, f->rx, n);
    udp_flow_consume(f, n);
    return (ssize_t)n;
}

/* One datagram of whole commands from the output buffer. The replies to the
 * previous datagram are collected first (they wait in the flow for udpRead):
 * one datagram in flight at a time. */
static ssize_t udpWrite(redisContext *c) {
    struct udp_flow *f = c->privctx;
    long long n;

    while (udp_flow_unanswered(f)) {
        if (udp_flow_wait(f) < 0) {
            flowError(c, f);
            return -1;
        }
    }
    n = udp_flow_pack(f, c->obuf, hi_sdslen(c->obuf));
    if (n <= 0) {
        if (n == 0) snprintf(f->errstr, sizeof(f->errstr), "incomplete command");
        flowError(c, f);
        return -1;
    }
    if (udp_flow_send(f, c->obuf, (size_t)n) < 0) {
        flowError(c, f);
        return -1;
    }
    return (ssize_t)n;
}

static void udpFree(void *privctx) {
    udp_flow_free(privctx);
    free(privctx);
}

static redisContextFuncs udpFuncs = {
    .free_privctx = udpFree,
    .read = udpRead,
    .write = udpWrite,
};

redisContext *cliUdpConnect(const char *host, int port) {
    redisOptions opts = {0};
    redisContext *c;
    struct udp_flow *f = calloc(1, sizeof(*f));

    if (!f) return NULL;
    /* The flow owns its socket (a new one per flow): hiredis gets no fd. */
    opts.type = REDIS_CONN_USERFD;
    opts.endpoint.fd = REDIS_INVALID_FD;
    c = redisConnectWithOptions(&opts);
    if (!c) {
        free(f);
        return NULL;
    }
    c->funcs = &udpFuncs;
    c->privctx = f;
    if (udp_flow_init(f, host, port, NULL) < 0) {
        c->err = REDIS_ERR_OTHER;
        snprintf(c->errstr, sizeof(c->errstr), "%s", f->errstr);
    }
    return c;
}

/* Error replies of one datagram's answers, printed like pipeMode() does. */
static long long countErrors(const char *rx, size_t len, long long *replies) {
    long long errors = 0;
    size_t off = 0;

    while (off < len) {
        struct resp_scan s;
        long long l;

        resp_scan_init(&s);
        l = resp_scan_reply(&s, rx + off, len - off);
        if (l <= 0) break;
        if (rx[off] == '-') {
            fprintf(stderr, "%.*s\n", (int)(l - 3), rx + off + 1);
            errors++;
        }
        (*replies)++;
        off += (size_t)l;
    }
    return errors;
}

int cliUdpPipe(redisContext *c) {
    struct udp_flow *f = c->privctx;
    char *in = NULL;
    size_t len = 0, cap = 0, off = 0;
    long long errors = 0, replies = 0, sent = 0;
    int eof = 0;

    while (!eof || off < len) {
        long long n;

        /* Keep at least a datagram's worth of input, whole commands. */
        if (!eof && len - off < UDP_FLOW_MAX_PAYLOAD * 2) {
            if (off) {
                memmove(in, in + off, len - off);
                len -= off;
                off = 0;
            }
            if (cap - len < 65536) {
                cap = cap ? cap * 2 : 1 << 18;
                if (!(in = realloc(in, cap))) {
                    fprintf(stderr, "out of memory\n");
                    return 1;
                }
            }
            ssize_t r = read(STDIN_FILENO, in + len, cap - len);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) {
                fprintf(stderr, "stdin: %s\n", strerror(errno));
                return 1;
            }
            if (r == 0) eof = 1;
            len += (size_t)r;
            continue;
        }
        n = udp_flow_pack(f, in + off, len - off);
        if (n == 0) {
            fprintf(stderr, "the input ends inside a command\n");
            free(in);
            return 1;
        }
        if (n < 0 || udp_flow_send(f, in + off, (size_t)n) < 0) {
            fprintf(stderr, "Error: %s\n", f->errstr);
            free(in);
            return 1;
        }
        off += (size_t)n;
        while (udp_flow_unanswered(f)) {
            size_t unanswered = udp_flow_unanswered(f);

            if (udp_flow_wait(f) < 0) {
                fprintf(stderr, "Error: %s: the last %zu command(s) sent got no reply; "
                        "%lld replies before them, %lld errors\n",
                        f->errstr, unanswered, replies, errors);
                free(in);
                return 1;
            }
            errors += countErrors(f->rx, f->ready, &replies);
            udp_flow_consume(f, f->ready);
        }
        sent += 1;
    }
    free(in);
    printf("All data transferred (%lld datagrams). Last reply received from server.\n", sent);
    printf("errors: %lld, replies: %lld\n", errors, replies);
    return errors > 0;
}
