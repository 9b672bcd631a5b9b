#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The Redis fork over UDP, from kernel clients in a peer network namespace.

    test_udp.py [--driver af_packet|af_xdp] [--only REGEX] [SUITE...]

Suites: functional (one server: corpus, pipelining, big values, blocking,
transactions, pub/sub, auth, limits, introspection, bad input), durability
(appendfsync always + kill -9), two-instances (two servers, one per queue,
net_af_xdp). Default: all. Needs root (namespaces, DPDK).
"""
import argparse
import os
import random
import re
import shutil
import tempfile
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from checks import Checks, require  # noqa: E402
from fnr_harness import (RespError, Server, Topology, encode, free_port, parse,  # noqa: E402
                         rand_bytes)

# Commands whose replies must be byte-identical over UDP and TCP. Each runs
# against a freshly flushed database, in order.
CORPUS = [
    ["PING"], ["PING", "hello"], ["ECHO", "x" * 300],
    ["SET", "s1", "v1"], ["GET", "s1"], ["GET", "missing"], ["SET", "s1", "v2", "GET"],
    ["APPEND", "s1", "-tail"], ["STRLEN", "s1"], ["GETRANGE", "s1", 0, 3], ["SETRANGE", "s1", 2, "ZZ"],
    ["MSET", "a", 1, "b", 2, "c", 3], ["MGET", "a", "b", "c", "nope"], ["INCR", "a"], ["INCRBY", "a", 40],
    ["DECR", "b"], ["INCRBYFLOAT", "c", "1.5"], ["SETNX", "a", 9], ["GETDEL", "c"],
    ["SET", "big", "y" * 5000], ["GET", "big"],
    ["RPUSH", "l", "a", "b", "c", "d", "e"], ["LPUSH", "l", "z"], ["LRANGE", "l", 0, -1], ["LLEN", "l"],
    ["LINDEX", "l", 2], ["LPOP", "l"], ["RPOP", "l", 2], ["LINSERT", "l", "BEFORE", "b", "x"],
    ["LPOS", "l", "b"], ["LMOVE", "l", "l2", "LEFT", "RIGHT"], ["LRANGE", "l2", 0, -1],
    ["HSET", "h", "f1", "v1", "f2", "v2", "f3", 3], ["HGET", "h", "f1"], ["HMGET", "h", "f1", "nope"],
    ["HINCRBY", "h", "f3", 4], ["HLEN", "h"], ["HEXISTS", "h", "f2"], ["HDEL", "h", "f2"],
    ["SADD", "st", "a", "b", "c"], ["SISMEMBER", "st", "b"], ["SCARD", "st"], ["SMISMEMBER", "st", "a", "q"],
    ["SADD", "st2", "b", "c", "d"], ["SINTERCARD", 2, "st", "st2"], ["SREM", "st", "a"],
    ["ZADD", "z", 1, "one", 2, "two", 3, "three"], ["ZRANGE", "z", 0, -1, "WITHSCORES"],
    ["ZSCORE", "z", "two"], ["ZINCRBY", "z", "2.5", "one"], ["ZRANK", "z", "one"],
    ["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 0, 2], ["ZCARD", "z"], ["ZPOPMIN", "z"],
    ["XADD", "x", "1-1", "k", "v"], ["XADD", "x", "2-1", "k2", "v2"], ["XLEN", "x"],
    ["XRANGE", "x", "-", "+"], ["XGROUP", "CREATE", "x", "g", "0"],
    ["XREADGROUP", "GROUP", "g", "c1", "COUNT", 1, "STREAMS", "x", ">"], ["XPENDING", "x", "g"],
    ["PFADD", "hll", "a", "b", "c"], ["PFCOUNT", "hll"],
    ["SETBIT", "bits", 7, 1], ["BITCOUNT", "bits"], ["GETBIT", "bits", 7],
    ["EXPIRE", "a", 100], ["TTL", "a"], ["PERSIST", "a"], ["TTL", "a"], ["TYPE", "h"], ["TYPE", "z"],
    ["EXISTS", "a", "b", "zz"], ["RENAME", "b", "b2"], ["DEL", "b2", "nope"],
    ["EVAL", "return {1, 'two', redis.call('GET', 's1')}", 0],
    ["EVAL", "return redis.call('INCR', KEYS[1])", 1, "ctr"],
    ["OBJECT", "ENCODING", "l"], ["DBSIZE"], ["SELECT", 1], ["DBSIZE"], ["SELECT", 0],
    ["HELLO", 3], ["HGETALL", "h"], ["ZRANGE", "z", 0, -1, "WITHSCORES"], ["SMEMBERS", "st2"],
    ["HELLO", 2],
    ["GET"], ["NOSUCHCOMMAND", "x"], ["INCR", "h"], ["LPUSH", "s1", "wrongtype"],
    ["MULTI"], ["SET", "m", 1], ["INCR", "m"], ["EXEC"],
]


def run_corpus(cli, srv_tcp):
    srv_tcp("FLUSHALL")
    out = []
    for cmd in CORPUS:
        out.append(cli.raw(*cmd))
    return out


def normalise(replies):
    # HELLO reports the client id, which differs between two clients.
    return [r if not r.startswith((b"%7", b"*14")) else b"<hello>" for r in replies]


def t_corpus_identical(srv):
    tcp, udp = srv.tcp(), srv.udp()
    a = normalise(run_corpus(tcp, tcp))
    b = normalise(run_corpus(udp, tcp))
    for i, (x, y) in enumerate(zip(a, b)):
        require(x == y, "reply %d to %r differs:\n tcp %r\n udp %r" % (i, CORPUS[i], x[:200], y[:200]))
    require(len(a) == len(b) == len(CORPUS))
    require(any(r.startswith(b"-") for r in a), "corpus has error replies")


def t_corpus_pipelined(srv):
    """The whole corpus pipelined: the same byte stream over UDP and TCP."""
    tcp, udp = srv.tcp(), srv.udp()
    stream = b"".join(encode(*c) for c in CORPUS)
    tcp("FLUSHALL")
    tcp.send_raw(stream)
    a = normalise(tcp.read_replies(len(CORPUS)))
    tcp("FLUSHALL")
    udp.send_raw(stream, chunk=1400)  # several request datagrams, commands cut anywhere
    b = normalise(udp.read_replies(len(CORPUS)))
    require(a == b, "pipelined corpus differs")


def t_pipeline_one_datagram(srv):
    udp = srv.udp()
    udp("DEL", "p")
    replies = udp.pipeline([["INCR", "p"]] * 500)
    require([parse(r) for r in replies] == list(range(1, 501)), "500 INCRs answered in order")
    require(udp.datagrams > 1, "500 replies (> 1472 bytes) spanned several datagrams")
    # 100 small replies fit one datagram: they must arrive as one.
    udp.datagrams = 0
    replies = udp.pipeline([["PING"]] * 100)
    require(all(r == b"+PONG\r\n" for r in replies) and udp.datagrams == 1,
          "100 PONGs in %d datagrams" % udp.datagrams)


def t_big_value(srv):
    udp, tcp = srv.udp(), srv.tcp()
    val = rand_bytes(100 * 1024, seed=7)
    # Request split over many datagrams that each fit the MTU.
    require(parse(udp.pipeline([["SET", "big100k", val]], chunk=1400)[0]) == "OK", "SET 100 KB")
    require(tcp("GET", "big100k") == val, "TCP reads the value written over UDP")
    got = udp("GET", "big100k")
    require(got == val, "GET 100 KB over UDP (%d bytes back)" % len(got or b""))
    require(udp.datagrams >= 70, "reply spread over >= 70 datagrams (%d)" % udp.datagrams)


def t_big_value_fragmented(srv):
    """Request datagrams larger than the MTU: IP fragments, reassembled."""
    udp, tcp = srv.udp(), srv.tcp()
    val = rand_bytes(100 * 1024, seed=8)
    # net_af_packet hands over what the kernel reassembled, up to its 9 KB
    # frames; net_af_xdp leaves reassembly to libfragnet.
    chunk = 8000 if srv.topo.driver == "af_packet" else 40000
    require(parse(udp.pipeline([["SET", "big100kf", val]], chunk=chunk)[0]) == "OK",
          "SET in %d-byte datagrams" % chunk)
    require(tcp("GET", "big100kf") == val, "value intact")


def t_interleaved_flows(srv):
    """32 flows at once, their datagrams interleaved: SET, GET and STRLEN of
    values up to 3000 bytes, so requests and replies span datagrams. Some
    flows send datagrams of exactly 1472 bytes (the largest pooled request
    buffer), some of 1400, some one command per datagram (up to 3 KB: IP
    fragments, each in its own buffer). Every reply is checked."""
    rng = random.Random(12)
    flows = [srv.udp() for _ in range(32)]
    sizes = [1, 64, 1400, 1439, 1440, 1441, 1472, 1473, 2048, 2999, 3000]
    for rnd in range(4):
        sends, expect = [], []
        for i, cli in enumerate(flows):
            key = "ilv:%d:%d" % (i, rnd)
            n = sizes[(i + rnd) % len(sizes)] if i < len(sizes) else rng.randint(1, 3000)
            val = rand_bytes(n, seed=1000 * rnd + i)
            cmds = [encode("SET", key, val), encode("GET", key), encode("STRLEN", key)]
            if i % 2:
                dgrams = cmds
            else:
                data, chunk = b"".join(cmds), 1472 if i % 4 == 0 else 1400
                dgrams = [data[j:j + chunk] for j in range(0, len(data), chunk)]
            sends.append(dgrams)
            expect.append(["OK", val, n])
        for j in range(max(len(d) for d in sends)):
            for cli, dgrams in zip(flows, sends):
                if j < len(dgrams):
                    cli.s.send(dgrams[j])
        for i, (cli, want) in enumerate(zip(flows, expect)):
            got = [parse(r) for r in cli.read_replies(3)]
            require(got == want, "round %d flow %d: %d-byte value: SET/GET/STRLEN answered %r" %
                    (rnd, i, want[2], [g if not isinstance(g, bytes) else "%d bytes" % len(g) for g in got]))
    for cli in flows:
        require(cli.expect_silence(0.05), "nothing more than the replies")
        cli.close()


def t_blpop_woken(srv):
    waiter, pusher, tcp = srv.udp(timeout=10), srv.udp(), srv.tcp()
    tcp("DEL", "bl", "bl2")
    waiter.send_raw(encode("BLPOP", "bl", 8))
    time.sleep(0.3)
    require(waiter.expect_silence(0.2), "BLPOP answered before anything was pushed")
    require(b"cmd=blpop" in tcp("CLIENT", "LIST"), "waiter is blocked")
    require(pusher("RPUSH", "bl", "hello") == 1)
    require(parse(waiter.read_replies(1)[0]) == [b"bl", b"hello"], "BLPOP woken by another UDP client")
    # And by a TCP client.
    waiter.send_raw(encode("BLPOP", "bl2", 8))
    time.sleep(0.2)
    tcp("LPUSH", "bl2", "fromtcp")
    require(parse(waiter.read_replies(1)[0]) == [b"bl2", b"fromtcp"], "BLPOP woken by a TCP client")


def t_multi_exec(srv):
    udp, other = srv.udp(), srv.udp()
    udp("DEL", "mx")
    # One command per datagram.
    require(udp("MULTI") == "OK")
    require(udp("SET", "mx", 5) == "QUEUED")
    require(other("GET", "mx") is None, "not visible before EXEC")
    require(udp("INCRBY", "mx", 10) == "QUEUED")
    require(udp("EXEC") == ["OK", 15], "EXEC results")
    # All in one datagram, with WATCH broken by another client.
    udp("WATCH", "mx")
    other("SET", "mx", 0)
    r = udp.pipeline([["MULTI"], ["INCR", "mx"], ["EXEC"]])
    require(parse(r[2]) is None, "EXEC aborted by WATCH")
    require(other("GET", "mx") == b"0")
    r = udp.pipeline([["MULTI"], ["SYNC"], ["EXEC"]])
    require(isinstance(parse(r[1]), RespError) and isinstance(parse(r[2]), RespError), "SYNC inside MULTI refused")


def t_pubsub(srv):
    sub, pub, tcp = srv.udp(), srv.udp(), srv.tcp()
    require(parse(sub.raw("SUBSCRIBE", "news")) == [b"subscribe", b"news", 1])
    require(parse(sub.raw("PSUBSCRIBE", "n*")) == [b"psubscribe", b"n*", 2])
    require(pub("PUBLISH", "news", "hello") == 2, "two subscriptions match")
    got = [parse(r) for r in sub.read_replies(2)]
    require([b"message", b"news", b"hello"] in got and [b"pmessage", b"n*", b"news", b"hello"] in got, got)
    require(tcp("PUBLISH", "news", "fromtcp") == 2)
    got = [parse(r) for r in sub.read_replies(2)]
    require([b"message", b"news", b"fromtcp"] in got, "message published over TCP delivered over UDP")
    require(b"sub=1 psub=1" in tcp("CLIENT", "LIST"), "subscriber listed")


def t_auth(srv):
    tcp = srv.tcp()
    tcp("CONFIG", "SET", "requirepass", "s3cret")
    try:
        udp = srv.udp()
        r = udp("GET", "x")
        require(isinstance(r, RespError) and r.startswith("NOAUTH"), "NOAUTH before AUTH: %r" % r)
        r = udp("AUTH", "wrong")
        require(isinstance(r, RespError) and r.startswith("WRONGPASS"), "wrong password: %r" % r)
        require(udp("AUTH", "s3cret") == "OK")
        require(udp("SET", "authed", 1) == "OK", "works after AUTH")
        # A new flow (new source port) is a new client: not authenticated.
        r = srv.udp()("GET", "authed")
        require(isinstance(r, RespError) and r.startswith("NOAUTH"), "new flow must AUTH again")
    finally:
        tcp.raw("AUTH", "s3cret")
        tcp("CONFIG", "SET", "requirepass", "")


def t_protected_mode(srv):
    tcp = srv.tcp()
    tcp("CONFIG", "SET", "protected-mode", "yes")
    try:
        r = srv.udp()("PING")
        require(isinstance(r, RespError) and r.startswith("DENIED"), "protected mode refuses UDP: %r" % r)
    finally:
        tcp("CONFIG", "SET", "protected-mode", "no")
    require(srv.udp()("PING") == "PONG")


def t_maxclients(srv):
    tcp = srv.tcp()
    n = int(tcp("INFO", "clients").split(b"connected_clients:")[1].split(b"\r\n")[0])
    tcp("CONFIG", "SET", "maxclients", n + 1)
    try:
        a = srv.udp()
        require(a("PING") == "PONG", "one more client fits")
        r = srv.udp()("PING")
        require(isinstance(r, RespError) and "max number of clients" in r, "over maxclients: %r" % r)
        require(a("PING") == "PONG", "admitted flow unaffected")
    finally:
        tcp("CONFIG", "SET", "maxclients", 10000)


def t_client_list_kill(srv):
    tcp, udp = srv.tcp(), srv.udp()
    udp("CLIENT", "SETNAME", "udpflow")
    port = udp.local_port()
    peer = "%s:%d" % (srv.topo.client_ip, port)
    lst = tcp("CLIENT", "LIST").decode()
    line = [l for l in lst.splitlines() if "name=udpflow" in l]
    require(line, "UDP flow listed")
    require(("addr=%s " % peer) in line[0], "addr is the UDP peer: %s" % line[0])
    require(("laddr=%s:%d " % (srv.topo.server_ip, srv.udp_port)) in line[0], "laddr is ours: %s" % line[0])
    cid = udp("CLIENT", "ID")
    require(tcp("CLIENT", "KILL", "ADDR", peer) == 1, "CLIENT KILL ADDR takes the UDP peer")
    require("name=udpflow" not in tcp("CLIENT", "LIST").decode(), "flow gone")
    require(udp("CLIENT", "ID") != cid, "next datagram from the same port is a new client")
    require(tcp("CLIENT", "KILL", "ID", udp("CLIENT", "ID")) == 1, "CLIENT KILL ID")


def t_refused_commands(srv):
    udp = srv.udp()
    for cmd in (["SYNC"], ["PSYNC", "?", -1], ["REPLCONF", "listening-port", 1], ["SCRIPT", "DEBUG", "YES"]):
        r = udp(*cmd)
        require(isinstance(r, RespError) and "UDP" in r, "%s refused with a clear error: %r" % (cmd[0], r))
    require(udp("PING") == "PONG", "client usable afterwards")
    tcp = srv.tcp()
    require(tcp("SCRIPT", "DEBUG", "NO") == "OK", "SCRIPT DEBUG still works over TCP")


def t_bad_input(srv):
    udp, tcp = srv.udp(), srv.tcp()
    udp.send_raw(b"*abc\r\n")
    r = parse(udp.read_replies(1)[0])
    require(isinstance(r, RespError) and "Protocol error" in r, "protocol error reported: %r" % r)
    # A flood of junk datagrams from many flows: the server survives.
    junk = [rand_bytes(n, seed=n) for n in (1, 2, 7, 64, 512, 1400)]
    junk += [b"*", b"$", b"*1\r\n$999999999\r\n", b"*2\r\n$3\r\nGET\r\n", b"\r\n\r\n", b"*-1\r\n",
             b"*1\r\n$-5\r\n", b"\x00" * 100, b"PING\r\n" * 300]
    socks = []
    for i in range(20):
        c = srv.udp(timeout=0.2)
        socks.append(c)
        for j in junk:
            c.s.send(j)
        c.s.send(b"")  # an empty datagram
    time.sleep(0.5)
    require(srv.alive(), "server alive after junk")
    require(tcp("PING") == "PONG", "TCP still answers")
    require(srv.udp()("PING") == "PONG", "a fresh UDP flow still answers")
    for c in socks:
        c.close()


def t_busy_script(srv):
    """While a script runs, Redis serves events from processEventsWhileBlocked:
    UDP clients must get -BUSY there, and may SCRIPT KILL over UDP."""
    tcp, udp = srv.tcp(timeout=10), srv.udp()
    tcp("CONFIG", "SET", "lua-time-limit", 100)
    tcp.send_raw(encode("EVAL", "local i = 0 while true do i = i + 1 end", 0))
    time.sleep(0.5)
    r = udp("PING")
    require(isinstance(r, RespError) and r.startswith("BUSY"), "-BUSY over UDP during a script: %r" % r)
    require(udp("SCRIPT", "KILL") == "OK", "SCRIPT KILL over UDP")
    r = parse(tcp.read_replies(1)[0])
    require(isinstance(r, RespError) and "killed" in r, "script was killed: %r" % r)
    require(udp("PING") == "PONG")


def t_bgsave_fork(srv):
    """A forked child (BGSAVE) must leave the queue to the parent."""
    tcp, udp = srv.tcp(), srv.udp()
    udp.pipeline([["SET", "bg:%d" % i, "x" * 100] for i in range(50)])
    require(tcp("BGSAVE").startswith("Background saving"), "BGSAVE started")
    for _ in range(100):
        info = tcp("INFO", "persistence")
        if b"rdb_bgsave_in_progress:0" in info:
            break
        require(udp("PING") == "PONG", "UDP served while the child saves")
        time.sleep(0.05)
    require(b"rdb_last_bgsave_status:ok" in info, "BGSAVE succeeded")
    require(udp("GET", "bg:49") == b"x" * 100, "UDP served after the child exited")


def t_idle_reaped(srv):
    """Server started with udp-idle-timeout 2."""
    tcp = srv.tcp()
    idle, blocked = srv.udp(), srv.udp(timeout=10)
    idle("CLIENT", "SETNAME", "idler")
    blocked("CLIENT", "SETNAME", "blocker")
    blocked.send_raw(encode("BLPOP", "never", 6))
    time.sleep(4)
    lst = tcp("CLIENT", "LIST").decode()
    require("name=idler" not in lst, "idle flow reaped")
    require("name=blocker" in lst, "blocked flow kept")
    require(parse(blocked.read_replies(1, timeout=5)[0]) is None, "BLPOP times out normally")


def t_info_and_stats(srv):
    tcp, udp = srv.tcp(), srv.udp()
    before = int(tcp("INFO", "stats").split(b"total_commands_processed:")[1].split(b"\r\n")[0])
    udp.pipeline([["PING"]] * 10)
    after = int(tcp("INFO", "stats").split(b"total_commands_processed:")[1].split(b"\r\n")[0])
    require(after - before >= 11, "UDP commands counted (%d)" % (after - before))
    require(b"udp-port" not in tcp("CONFIG", "GET", "*"), "udp directives hidden from CONFIG GET *")
    r = tcp("CONFIG", "SET", "udp-port", 1)
    require(isinstance(r, RespError), "udp-port is immutable")
    r = tcp("CONFIG", "SET", "udp-max-flows", 1)
    require(isinstance(r, RespError), "udp-max-flows is immutable")
    info = tcp("INFO", "udp")
    require(b"udp_flows_validated:" in info and b"udp_trusted_prefixes:1\r\n" in info,
            "INFO udp: the harness's client subnet is trusted: %r" % info[:300])
    require(b"udp_flows_refused_prefix:" in tcp("INFO", "all"), "INFO all has the udp section")


def functional(topo, runner):
    udp_port, tcp_port = 6390, free_port()
    srv = Server(topo, "func", tcp_port, udp_port, extra=["--udp-idle-timeout", 2]).start()
    try:
        for name, fn in [
            ("corpus byte-identical over UDP and TCP", t_corpus_identical),
            ("corpus pipelined byte-identical", t_corpus_pipelined),
            ("pipelining within one datagram", t_pipeline_one_datagram),
            ("100 KB value written and read", t_big_value),
            ("100 KB value in fragmented datagrams", t_big_value_fragmented),
            ("32 flows interleaved, values to 3000 bytes", t_interleaved_flows),
            ("BLPOP woken by another client", t_blpop_woken),
            ("MULTI/EXEC/WATCH", t_multi_exec),
            ("pub/sub delivery", t_pubsub),
            ("AUTH enforced", t_auth),
            ("protected mode applies to UDP", t_protected_mode),
            ("maxclients applies to UDP", t_maxclients),
            ("CLIENT LIST/KILL with UDP peers", t_client_list_kill),
            ("replication and SCRIPT DEBUG refused over UDP", t_refused_commands),
            ("malformed input never crashes", t_bad_input),
            ("-BUSY and SCRIPT KILL over UDP during a script", t_busy_script),
            ("BGSAVE child leaves the queue alone", t_bgsave_fork),
            ("idle flows reaped, blocked kept", t_idle_reaped),
            ("INFO counts UDP; directives hidden and immutable", t_info_and_stats),
        ]:
            runner.run(name, fn, srv)
        runner.run("server alive at the end", lambda: require(srv.alive(), srv.tail()))
    finally:
        srv.cleanup()


def durability(topo, runner):
    def body():
        tcp_port = free_port()
        srv = Server(topo, "aof", tcp_port, 6391, aof=True).start()
        srv2 = None
        try:
            udp = srv.udp()
            n = 300
            for i in range(n):
                require(udp("SET", "d:%d" % i, "v%d" % i) == "OK", "ack %d" % i)
            # Pipelined writes too: acknowledged means durable.
            replies = udp.pipeline([["INCR", "dctr"]] * 200, chunk=1400)
            require(parse(replies[-1]) == 200)
            srv.kill9()
            srv2 = Server(topo, "aof", tcp_port, 6391, aof=True)
            os.rmdir(srv2.dir)  # it restarts in the first server's directory
            srv2.dir, srv2.log = srv.dir, srv.log + ".2"
            srv2.args = [a if a != srv.log else srv2.log for a in srv.args]
            srv2.start()
            tcp = srv2.tcp()
            vals = tcp("MGET", *["d:%d" % i for i in range(n)])
            missing = [i for i, v in enumerate(vals) if v != b"v%d" % i]
            require(not missing, "%d acknowledged writes lost, first %s" % (len(missing), missing[:5]))
            require(tcp("GET", "dctr") == b"200", "pipelined INCRs survived")
            require(srv2.udp()("GET", "d:0") == b"v0", "UDP serves again after restart")
        finally:
            srv.cleanup() if srv2 is None else (srv.stop(), srv2.cleanup())
    runner.run("appendfsync always: UDP-acknowledged writes survive kill -9", body)
    aof_ordering(topo, runner)


def aof_ordering(topo, runner):
    """Each UDP reply leaves only after its write reached the AOF file and was
    fsynced: the syscall trace of the server must show, for every SET,
    write(aof) -> fdatasync(aof) -> the packet transmit, never a transmit in
    between. (net_af_packet and net_af_xdp in copy mode kick their TX ring with
    sendto(fd, NULL, 0, ...); AOF writes are told apart by their data.)"""
    def body():
        trace = os.path.join(tempfile.mkdtemp(prefix="fnr-strace-"), "trace")
        srv = Server(topo, "aofo", free_port(), 6393, aof=True,
                     wrapper=["strace", "-f", "-tt", "-s", "64", "-o", trace,
                              "-e", "trace=write,fdatasync,fsync,sendto"])
        try:
            srv.start(wait=60)
            udp = srv.udp()
            n = 20
            for i in range(n):
                require(udp("SET", "ord:%d" % i, "v") == "OK")
            srv.stop()
            lines = open(trace).read().splitlines()
        finally:
            srv.cleanup()
            shutil.rmtree(os.path.dirname(trace), ignore_errors=True)
        ev = []
        for l in lines:
            m = re.search(r'(write|fdatasync|fsync|sendto)\((\d+)(.*)', l)
            if not m:
                continue
            call, fd, rest = m.group(1), int(m.group(2)), m.group(3)
            if call == "write" and "SET" in rest and "ord:" in rest:
                ev.append(("aofwrite", fd))
            elif call in ("fdatasync", "fsync"):
                ev.append(("sync", fd))
            elif call == "sendto" and "NULL, 0" in rest:
                ev.append(("tx", fd))
        writes = [i for i, e in enumerate(ev) if e[0] == "aofwrite"]
        require(len(writes) == n, "found %d AOF writes of %d SETs in the trace" % (len(writes), n))
        for w in writes:
            aof_fd = ev[w][1]
            rest = ev[w + 1:]
            sync = next((j for j, e in enumerate(rest) if e == ("sync", aof_fd)), None)
            require(sync is not None, "AOF write not followed by fdatasync")
            require(not any(e[0] == "tx" for e in rest[:sync]), "a packet left between AOF write and fsync")
            nxt = next((j for j, e in enumerate(rest) if e[0] == "aofwrite"), len(rest))
            require(any(e[0] == "tx" for e in rest[sync:nxt]), "reply transmitted after the fsync")
    runner.run("UDP replies leave after the AOF write and fsync (syscall order)", body)


def two_instances(topo, runner):
    def body():
        a = Server(topo, "q0", free_port(), 6392, queue=0, lcore=0).start()
        b = Server(topo, "q1", free_port(), 6392, queue=1, lcore=1)
        try:
            b.start()
            seen = {}
            for i in range(64):
                c = a.udp(timeout=2)  # same address and port: the queue picks the instance
                ports = set()
                for _ in range(3):
                    r = c("CONFIG", "GET", "port")
                    ports.add(int(r[1]))
                require(len(ports) == 1, "flow %d answered by one instance only: %s" % (i, ports))
                p = ports.pop()
                seen[p] = seen.get(p, 0) + 1
                c("SET", "owner", p)
                c.close()
            require(set(seen) == {a.tcp_port, b.tcp_port}, "both instances served flows: %s" % seen)
            require(a.alive() and b.alive())
        finally:
            a.cleanup()
            b.cleanup()
    runner.run("two instances, one per queue (net_af_xdp), side by side", body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="veth", choices=["veth"], help="(the only mode left)")
    ap.add_argument("--driver", default="af_xdp", choices=["af_packet", "af_xdp"])
    ap.add_argument("--no-static-neigh", action="store_true", help="rely on ARP")
    ap.add_argument("--only", help="run tests whose name matches this regex")
    ap.add_argument("suites", nargs="*", default=["functional", "durability", "two-instances"])
    a = ap.parse_args()
    checks = Checks(a.only)
    for suite in a.suites:
        driver = "af_xdp" if suite == "two-instances" else a.driver
        with Topology(driver, static_neigh=not a.no_static_neigh,
                      queues=2 if suite == "two-instances" else 1) as topo:
            {"functional": functional, "durability": durability,
             "two-instances": two_instances}[suite](topo, checks)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
