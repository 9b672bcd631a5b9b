/* redis-cli --udp: RESP over UDP to the libfragnet fork, on a kernel socket.
 *
 * The context is a hiredis redisContext whose read and write functions go
 * through udp_flow.c (redis/client/, copied into this tree by build.sh): the
 * rest of redis-cli drives it as a TCP context. A reply that does not come
 * is an EOF-type error, so that redis-cli reports it and opens a new context
 * (a new flow) for the next command, as after a lost TCP connection; reads
 * are sent again on a new flow first, writes never. */
#ifndef CLI_UDP_H
#define CLI_UDP_H

#include "hiredis.h"

/* Never NULL without memory; check ->err like redisConnect's result. */
redisContext *cliUdpConnect(const char *host, int port);

/* --pipe over UDP: the RESP commands on stdin, packed into datagrams, one in
 * flight at a time. Returns the exit status. */
int cliUdpPipe(redisContext *c);

#endif
