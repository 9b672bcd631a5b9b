#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The Redis fork against a hostile network: reflection and flow exhaustion,
with the attacks themselves, from the peer namespace.

    test_hostile.py [--only REGEX] [SUITE...]

Suites (default: all):
  amplification  a fork that trusts nobody; the worst probes we know from an
                 unvalidated source (protected-mode text, NOAUTH and unknown
                 command errors under requirepass, big GET, INFO, a
                 subscription fed from TCP): bytes out <= 3x bytes in on
                 every flow; the factors are printed
  validation     the UDPCOOKIE handshake lifts the limit for its own flow
                 only; a cookie for another port, a forged or garbled one,
                 or AUTH alone do not; a source in udp-trusted-prefixes needs
                 no cookie; INFO udp counts it all
  flood          thousands of spoofed flows (raw socket: many source
                 addresses in many /24s, many ports) while new TCP clients
                 and validated UDP clients are served, all of them
  memory         what an unvalidated source can make the fork hold: a
                 request announcing 512 MB in 25 bytes allocates nothing
                 (an unvalidated flow sends whole requests), nor do 120
                 GETs of a 1 MB value in one datagram, while a
                 validated one may still split a command across datagrams;
                 a spoofed BLPOP does not keep its flow past the
                 unvalidated idle timeout
  rules          a fork with default settings and no fragnetd refuses to
                 start (udp-require-rules defaults to yes)
Needs root (namespaces, DPDK, raw sockets).
"""
import argparse
import os
import re
import socket
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from checks import Checks, require  # noqa: E402
from fnr_harness import RespError, Server, Topology, encode, free_port, parse  # noqa: E402
from topology import entered  # noqa: E402

UDP_PORT = 6395
LIMIT = 3.0
TRUSTED_HOST = 50          # 10.77.0.50: in udp-trusted-prefixes in the validation suite
BIG = 100 * 1024


def info_udp(srv):
    tcp = srv.tcp()
    raw = tcp("INFO", "udp")
    tcp.close()
    out = {}
    if isinstance(raw, RespError):  # locked out (that is a failure of its own)
        return out
    raw = raw.decode()
    for line in raw.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = int(v) if v.isdigit() else v
    return out


def exchange(srv, datagrams, after=None, source=None, settle=0.6):
    """Send datagrams from a fresh flow of an unvalidated source; bytes in,
    bytes out (UDP payload), and what came back."""
    c = srv.udp(timeout=2, source=source)
    sent = got = 0
    data = b""
    for d in datagrams:
        c.s.send(d)
        sent += len(d)
    if after:
        after()
    deadline = time.monotonic() + 10
    c.s.settimeout(settle)
    while time.monotonic() < deadline:
        try:
            chunk = c.s.recv(1 << 17)
        except (socket.timeout, TimeoutError):
            break
        got += len(chunk)
        data += chunk
    c.close()
    return sent, got, data


# ------------------------------------------------------- amplification ---

def amplification(topo, runner):
    srv = Server(topo, "amp", free_port(), UDP_PORT, trusted=False).start()
    tcp = srv.tcp()
    tcp("SET", "big", b"v" * BIG)
    rows = []

    def probe(name, datagrams, before=None, after=None, cleanup=None):
        def body():
            if before:
                before()
            try:
                sent, got, _ = exchange(srv, datagrams, after)
            finally:
                if cleanup:
                    cleanup()
            factor = got / sent
            rows.append((name, sent, got, factor))
            require(factor <= LIMIT, "%d bytes in, %d out: %.1fx" % (sent, got, factor))
        runner.run("at most 3x to an unvalidated source: " + name, body)

    def protect():
        tcp("CONFIG", "SET", "protected-mode", "yes")

    def unprotect():
        tcp("CONFIG", "SET", "protected-mode", "no")

    def password():
        tcp("CONFIG", "SET", "requirepass", "s3cret")

    def no_password():
        tcp.raw("AUTH", "s3cret")
        tcp("CONFIG", "SET", "requirepass", "")

    def publish():
        time.sleep(0.2)
        for i in range(100):
            tcp("PUBLISH", "ch", b"m" * 1000)

    try:
        probe("protected mode, a 1-byte datagram", [b"x"], protect, cleanup=unprotect)
        probe("protected mode, inline PING", [b"PING\r\n"], protect, cleanup=unprotect)
        probe("protected mode, RESP PING", [encode("PING")], protect, cleanup=unprotect)
        probe("requirepass, 500 unknown commands in one datagram", [b"a\n" * 500], password,
              cleanup=no_password)
        probe("requirepass, 200 GETs before AUTH (NOAUTH)", [b"GET k\n" * 200], password,
              cleanup=no_password)
        probe("requirepass, one unknown command per datagram", [b"a\n"] * 50, password,
              cleanup=no_password)
        probe("no password, 500 unknown commands in one datagram", [b"a\n" * 500])
        probe("no password, INFO ALL", [b"INFO ALL\n"])
        probe("no password, GET of a 100 KB key", [b"GET big\n"])
        probe("no password, 50 GETs of a 100 KB key", [b"GET big\n"] * 50)
        probe("no password, SUBSCRIBE then 100 KB published over TCP", [b"SUBSCRIBE ch\n"],
              after=publish)
        probe("no password, cookie requests", [b"UDPCOOKIE\n", encode("UDPCOOKIE")])

        def counted():
            i = info_udp(srv)
            require(i.get("udp_replies_withheld", 0) > 0 and i.get("udp_bytes_withheld", 0) > BIG,
                    "INFO udp counts what was withheld: %r" % i)
            require(i.get("udp_flows_denied_protected_mode", 0) >= 3, "protected-mode denials counted")
        runner.run("INFO udp counts withheld replies and bytes", counted)
        runner.run("the fork is alive", lambda: require(srv.alive(), srv.tail()))
    finally:
        tcp.close()
        srv.cleanup()
    print("amplification (UDP payload bytes out / in, one fresh unvalidated flow per probe):")
    for name, sent, got, factor in rows:
        print("  %-58s %7d in %8d out %8.1fx" % (name, sent, got, factor))


# ---------------------------------------------------------- validation ---

def validation(topo, runner):
    trusted_ip = "%s.%d" % (topo.server_ip.rsplit(".", 1)[0], TRUSTED_HOST)
    srv = Server(topo, "val", free_port(), UDP_PORT, trusted=False,
                 extra=["--udp-trusted-prefixes", trusted_ip + "/32"]).start()
    tcp = srv.tcp()
    tcp("SET", "big", b"v" * BIG)
    get_big = encode("GET", "big")
    try:
        def withheld_unvalidated():
            sent, got, data = exchange(srv, [get_big])
            require(got <= LIMIT * sent, "%d bytes for %d" % (got, sent))
            require(data.startswith(b"-ERR reply withheld"), "a short error instead: %r" % data[:80])

        def handshake():
            c = srv.udp().validate()
            require(c("GET", "big") == b"v" * BIG, "100 KB GET served whole after the handshake")
            require(c("GET", "big") == b"v" * BIG, "and again")
            c.close()

        def inline_handshake():
            c = srv.udp()
            c.send_raw(b"UDPCOOKIE\r\n")
            cookie = parse(c.read_replies(1)[0])
            c.send_raw(b"UDPCOOKIE " + cookie.encode() + b"\n")
            require(parse(c.read_replies(1)[0]) == "OK", "inline echo accepted")
            require(c("GET", "big") == b"v" * BIG, "served whole")
            c.close()

        def other_port():
            a, b = srv.udp(), srv.udp()
            cookie = a("UDPCOOKIE")
            r = b("UDPCOOKIE", cookie)
            require(isinstance(r, RespError) and "invalid" in r, "a cookie for another port: %r" % r)
            b.send_raw(get_big)
            r = parse(b.read_replies(1)[0])
            require(isinstance(r, RespError) and "withheld" in r, "still limited: %r" % r)
            a.close()
            b.close()

        def forged():
            for bad in ("0" * 24, "%08x" % int(time.time()) + "0" * 16, "zz", "x" * 200,
                        "%08x" % (int(time.time()) - 3600) + "0123456789abcdef"):
                c = srv.udp()
                r = c("UDPCOOKIE", bad)
                require(isinstance(r, RespError), "cookie %r refused: %r" % (bad, r))
                c.close()
            # A real cookie with one digit changed.
            c = srv.udp()
            cookie = c("UDPCOOKIE")
            flipped = cookie[:-1] + ("0" if cookie[-1] != "0" else "1")
            require(isinstance(c("UDPCOOKIE", flipped), RespError), "altered cookie refused")
            c.close()

        def auth_alone():
            tcp("CONFIG", "SET", "requirepass", "s3cret")
            try:
                c = srv.udp()
                require(c("AUTH", "s3cret") == "OK", "AUTH works")
                c.send_raw(get_big)
                r = parse(c.read_replies(1)[0])
                require(isinstance(r, RespError) and "withheld" in r,
                        "AUTH does not validate the address: %r" % r)
                c.close()
                c = srv.udp().validate()
                require(c("AUTH", "s3cret") == "OK" and c("GET", "big") == b"v" * BIG,
                        "handshake and AUTH: served")
                c.close()
            finally:
                tcp.raw("AUTH", "s3cret")
                tcp("CONFIG", "SET", "requirepass", "")

        def trusted_prefix():
            c = srv.udp(source=trusted_ip)
            require(c("GET", "big") == b"v" * BIG, "a trusted source needs no cookie")
            c.close()

        def small_replies_unlimited_in_number():
            # An honest unvalidated client whose replies stay within 3x
            # keeps being served: the limit is on bytes, not requests.
            c = srv.udp()
            c("SET", "k", "v" * 20)
            for i in range(200):
                require(c("GET", "k") == b"v" * 20, "request %d served" % i)
            c.close()

        def counters():
            i = info_udp(srv)
            require(i["udp_cookies_issued"] >= 5 and i["udp_cookies_accepted"] >= 3 and
                    i["udp_cookies_rejected"] >= 6, "cookies counted: %r" % i)
            require(i["udp_trusted_prefixes"] == 1 and i["udp_replies_withheld"] >= 3, i)

        runner.run("an unvalidated flow gets a short error instead of 100 KB", withheld_unvalidated)
        runner.run("UDPCOOKIE handshake (RESP): 100 KB GET served", handshake)
        runner.run("UDPCOOKIE handshake (inline): 100 KB GET served", inline_handshake)
        runner.run("a cookie is bound to its address and port", other_port)
        runner.run("forged, garbled, expired and altered cookies are refused", forged)
        runner.run("a successful AUTH alone does not validate", auth_alone)
        runner.run("a source in udp-trusted-prefixes is served without a cookie", trusted_prefix)
        runner.run("small replies within 3x keep flowing", small_replies_unlimited_in_number)
        runner.run("INFO udp counts cookies", counters)
    finally:
        tcp.close()
        srv.cleanup()


# --------------------------------------------------------------- flood ---

def spoofed(src, sport, dst, dport, payload):
    """An IPv4/UDP packet for a raw socket: the kernel fills the IP checksum,
    length and ID; UDP checksum 0 (none)."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, socket.IPPROTO_UDP, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return ip + udp


def flood(topo, runner):
    srv = Server(topo, "flood", free_port(), UDP_PORT, trusted=False).start()
    tcp = srv.tcp()
    maxclients = 400
    tcp("CONFIG", "SET", "maxclients", maxclients)
    tcp("SET", "k", "hello")
    with entered(topo.client_ns):
        raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    # An incomplete command: no reply, so each flow stays until it idles out.
    # Inline (no line end yet): an unvalidated flow's multibulk requests must
    # be whole, and one that is not opens no flow at all.
    payload = b"PING"
    # More than half of them from our own /24, which meets its per-prefix
    # cap first; the other /24s meet the unvalidated budget.
    sources = ["%s.%d" % (topo.server_ip.rsplit(".", 1)[0], h) for h in range(100, 180)]
    sources += ["10.%d.%d.%d" % (100 + p // 200, p % 200, 7 + p % 50) for p in range(60)]
    stop = threading.Event()
    sent = [0]
    peak = {"udp_flows_unvalidated": 0, "own_prefix": 0}
    own_prefix = re.compile(r" addr=%s\.1\d\d:" % re.escape(topo.server_ip.rsplit(".", 1)[0]))  # .100-.179

    def attacker():
        port = 1024
        while not stop.is_set():
            for i in range(200):
                src = sources[(sent[0] + i) % len(sources)]
                raw.sendto(spoofed(src, port, topo.server_ip, UDP_PORT, payload), (topo.server_ip, 0))
                port = port + 1 if port < 65000 else 1024
            sent[0] += 200
            time.sleep(0.01)

    served = {"tcp new": [0, 0, 0], "udp validated": [0, 0, 0], "udp new validated": [0, 0, 0]}
    try:
        steady = srv.udp(timeout=1)
        try:
            steady.validate()
        except AssertionError as e:
            runner.check("a validated UDP client before the flood", False, str(e))
        th = threading.Thread(target=attacker, daemon=True)
        th.start()
        time.sleep(1.0)  # the flood is on
        t_end = time.monotonic() + 8
        while time.monotonic() < t_end:
            for name, fn in (
                    ("tcp new", lambda: srv.tcp(timeout=2)),
                    ("udp validated", lambda: steady),
                    ("udp new validated", lambda: srv.udp(timeout=1).validate())):
                served[name][1] += 1
                # UDP has no retransmission: a datagram lost under the
                # flood is retried once, as a client would (counted); a
                # refusal is never retried.
                for attempt in range(2 if name.startswith("udp") else 1):
                    try:
                        c = fn()
                        ok = c("GET", "k") == b"hello"
                        if c is not steady:
                            c.close()
                        break
                    except TimeoutError:
                        ok = False
                        served[name][2] += 1
                    except (AssertionError, OSError):
                        ok = False
                        break
                served[name][0] += ok
            i = info_udp(srv)
            peak["udp_flows_unvalidated"] = max(peak["udp_flows_unvalidated"],
                                                i.get("udp_flows_unvalidated", 0))
            lst = tcp("CLIENT", "LIST")
            if not isinstance(lst, RespError):
                peak["own_prefix"] = max(peak["own_prefix"], len(own_prefix.findall(lst.decode())))
            time.sleep(0.05)
        stop.set()
        th.join()
        during = info_udp(srv)
        print("flood: %d spoofed datagrams from %d addresses in %d /24s, many ports" %
              (sent[0], len(sources), len({s.rsplit(".", 1)[0] for s in sources})))
        for name, (ok, n, retried) in served.items():
            print("  %-20s %d of %d served (%d retried after a lost datagram)" % (name, ok, n, retried))
        print("  INFO udp: flows opened %d, refused: max_flows %d, unvalidated %d, prefix %d, "
              "maxclients %d; peak unvalidated %d (cap %s)" %
              (during.get("udp_flows_opened", -1), during.get("udp_flows_refused_max_flows", -1),
               during.get("udp_flows_refused_unvalidated", -1), during.get("udp_flows_refused_prefix", -1),
               during.get("udp_flows_refused_maxclients", -1), peak["udp_flows_unvalidated"],
               during.get("udp_max_unvalidated_flows")))

        for name, (ok, n, _) in served.items():
            runner.check("during the flood, %s clients: %d of %d served" % (name, ok, n),
                         n > 0 and ok == n)
        runner.check("the flood was real: %d spoofed datagrams, %d flows opened" %
                     (sent[0], during.get("udp_flows_opened", 0)),
                     # spoofed flows came and went: twice the budget at least
                     sent[0] >= 10000 and during.get("udp_flows_opened", 0) >= maxclients)
        runner.check("unvalidated flows never above min(udp-max-flows, maxclients)/2 = %d (peak %d)" %
                     (maxclients // 2, peak["udp_flows_unvalidated"]),
                     0 < peak["udp_flows_unvalidated"] <= maxclients // 2)
        runner.check("spoofed flows from one /24 never above udp-max-unvalidated-per-prefix = 64 (peak %d)" %
                     peak["own_prefix"], 0 < peak["own_prefix"] <= 64)
        runner.check("refusals counted by reason (per /24 and unvalidated budget)",
                     during.get("udp_flows_refused_prefix", 0) > 0 and
                     during.get("udp_flows_refused_unvalidated", 0) > 0, during)
        time.sleep(3.5)
        after = info_udp(srv)
        runner.check("2 s after the flood its flows are reaped (%d unvalidated left)" %
                     after.get("udp_flows_unvalidated", -1), after.get("udp_flows_unvalidated") == 0)
        runner.check("the validated flow outlives them", steady("GET", "k") == b"hello")
        runner.check("the fork is alive", srv.alive(), srv.tail())
    finally:
        stop.set()
        raw.close()
        tcp.close()
        srv.cleanup()


# --------------------------------------------------------------- rules ---

def rules(topo, runner):
    def body():
        srv = Server(topo, "rules", free_port(), UDP_PORT, trusted=False, rules_optional=False)
        try:
            srv.start(wait=30)
        except RuntimeError as e:
            require("udp-require-rules is yes" in str(e), str(e)[-600:])
            return
        finally:
            srv.cleanup()
        raise AssertionError("the fork started without fragnetd's rules")
    runner.run("default settings and no fragnetd: the fork refuses to serve UDP", body)


# -------------------------------------------------------------- memory ---

def used_memory(tcp):
    raw = tcp("INFO", "memory").decode()
    return int(re.search(r"^used_memory:(\d+)", raw, re.M).group(1))


def memory(topo, runner):
    srv = Server(topo, "mem", free_port(), UDP_PORT, trusted=False,
                 extra=["--udp-unvalidated-idle-timeout", "1"]).start()
    tcp = srv.tcp()
    try:
        def announced_bulk():
            before = used_memory(tcp)
            # 25 bytes announcing a 512 MB argument, from two sources
            for _ in range(2):
                c = srv.udp()
                c.send_raw(b"*2\r\n$3\r\nSET\r\n$536870000\r\n")
                time.sleep(0.3)
                c.close()
            grown = used_memory(tcp) - before
            require(grown < 8 << 20, "used_memory grew by %d bytes" % grown)
            require(info_udp(srv).get("udp_rx_partial_unvalidated", 0) >= 2,
                    "refused and counted: %r" % info_udp(srv))
        runner.run("an unvalidated source's request announcing 512 MB allocates nothing "
                   "(< 8 MB), counted", announced_bulk)

        def pipelined_big_gets():
            tcp("SET", "big1m", b"v" * (1 << 20))
            tcp("CONFIG", "RESETSTAT")           # resets used_memory_peak too
            base = used_memory(tcp)
            c = srv.udp()
            c.send_raw(b"GET big1m\r\n" * 120)   # 1 320 bytes asking for 120 MB
            time.sleep(1)
            c.close()
            raw = tcp("INFO", "memory").decode()
            peak = int(re.search(r"^used_memory_peak:(\d+)", raw, re.M).group(1))
            require(peak - base < 16 << 20, "peak %d bytes over the base" % (peak - base))
            require(info_udp(srv).get("udp_commands_refused_unvalidated", 0) > 0,
                    "refusals counted: %r" % info_udp(srv))
            tcp("DEL", "big1m")
        runner.run("120 GETs of a 1 MB key in one unvalidated datagram: replies stop "
                   "being built past the allowance (peak < 16 MB), counted", pipelined_big_gets)

        def validated_split():
            c = srv.udp().validate()
            req = encode("SET", "split", b"s" * 3000)
            c.send_raw(req, chunk=1000)       # one command in four datagrams
            require(parse(c.read_replies(1)[0]) == "OK", "the split SET applied")
            require(c("GET", "split") == b"s" * 3000, "and read back")
            c.close()
        runner.run("a validated flow may still split a command across datagrams",
                   validated_split)

        def unvalidated_whole():
            c = srv.udp()
            c.send_raw(encode("SET", "k", "v") + b"PING\r\n")
            require(c.read_replies(2) and True, "whole requests, then inline, served")
            c.close()
        runner.run("an unvalidated flow's whole requests (multibulk, then inline) are served",
                   unvalidated_whole)

        def blocked_reaped():
            before = info_udp(srv)
            c = srv.udp()
            c.send_raw(encode("BLPOP", "nosuchkey", "0"))
            time.sleep(0.5)
            during = info_udp(srv).get("udp_flows_unvalidated", 0)
            time.sleep(3)
            after = info_udp(srv)
            c.close()
            require(during >= 1, "the blocked flow existed: %r" % during)
            require(after.get("udp_flows_unvalidated", 1) == 0 and
                    after.get("udp_flows_reaped", 0) > before.get("udp_flows_reaped", 0),
                    "reaped: %r" % after)
        runner.run("an unvalidated flow blocked in BLPOP is freed at the unvalidated idle "
                   "timeout", blocked_reaped)
        runner.run("the fork is alive", lambda: require(srv.alive(), srv.tail()))
    finally:
        tcp.close()
        srv.cleanup()


SUITES = {"amplification": amplification, "validation": validation, "flood": flood,
          "memory": memory, "rules": rules}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", help="run checks whose name matches this regex")
    ap.add_argument("suites", nargs="*", default=list(SUITES))
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("test_hostile.py: needs root (network namespaces, DPDK, raw sockets)")
        return 1
    checks = Checks(a.only)
    with Topology("af_xdp", extra_hosts=(TRUSTED_HOST,)) as topo:
        for suite in a.suites:
            try:
                SUITES[suite](topo, checks)
            except Exception as e:  # noqa: BLE001 - a server that does not start fails its suite only
                checks.check("suite %s ran to its end" % suite, False, "%s: %s" % (type(e).__name__, e))
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
