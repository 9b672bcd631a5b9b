#!/usr/bin/env python3
"""End to end: fragnet-echo in one namespace on a DPDK port (af_packet with two
queues, or af_xdp with one port per queue) over a veth pair; real kernel
clients in the other namespace.

  test_echo.py --echo build/examples/fragnet-echo --pmd af_xdp [--features arp,icmp,frag]

Prints one line per check and "N passed, N failed"; exits non-zero on failure.
"""
import argparse
import json
import os
import random
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import Checks, main  # noqa: E402
from echo import ECHO_PORT, Echo  # noqa: E402
from topology import Pair, sh  # noqa: E402

SUBNET = "10.99.0"
SERVER_ADDR, CLIENT_ADDR = f"{SUBNET}.1", f"{SUBNET}.2"


# ---------------------------------------------------------------- client side
# These run inside the client namespace (the script re-executes itself there)
# and print a JSON result.

def client_echo(flows, per_flow, size):
    ok = bad = 0
    socks = []
    for _ in range(flows):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(1.0)
        s.bind(("0.0.0.0", 0))
        socks.append(s)
    for i in range(per_flow):
        for n, s in enumerate(socks):
            msg = (f"{n}:{i}:".encode() + bytes(range(256)) * (size // 256 + 1))[:size]
            s.sendto(msg, (SERVER_ADDR, ECHO_PORT))
            try:
                data, addr = s.recvfrom(70000)
                ok += data == msg and addr == (SERVER_ADDR, ECHO_PORT)
                bad += data != msg
            except socket.timeout:
                bad += 1
    return {"ok": ok, "bad": bad}


def client_refused():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2.0)
    s.connect((SERVER_ADDR, 9))
    s.send(b"anyone?")
    try:
        s.recv(100)
        return {"error": "got a reply"}
    except ConnectionRefusedError:
        return {"error": "ECONNREFUSED"}
    except socket.timeout:
        return {"error": "timeout"}


def frame(dst_mac, src_mac, ethertype, payload):
    return dst_mac + src_mac + struct.pack("!H", ethertype) + payload


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ihl=5, tot=None, frag=0, ttl=64, fix_csum=True, version=4):
    tot = 20 + len(payload) if tot is None else tot
    h = struct.pack("!BBHHHBBH4s4s", version << 4 | ihl, 0, tot, 0x4242, frag, ttl, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    if fix_csum:
        h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def udp(sport, dport, payload, length=None):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload) if length is None else length,
                       0) + payload


def steered(f):
    """Whether a program steering the server's address to it (test_xsk.py's
    xsk_redirect.bpf.c) hands frame f over: IPv4 to it, ARP asking for it."""
    addr = socket.inet_aton(SERVER_ADDR)
    if f[12:14] == b"\x08\x00":
        return len(f) >= 34 and f[30:34] == addr
    return f[12:14] == b"\x08\x06" and len(f) >= 42 and f[38:42] == addr


def client_malformed(ifname, server_mac):
    """A burst of broken frames at the server; returns how many were sent."""
    rnd = random.Random(1234)
    dst = bytes.fromhex(server_mac.replace(":", ""))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    src = s.getsockname()[4]
    C, S = CLIENT_ADDR, SERVER_ADDR
    frames = [
        frame(dst, src, 0x0800, b""),                                  # no IP header
        frame(dst, src, 0x0800, ipv4(C, S, 17, udp(1, 7, b"x"))[:10]),  # truncated
        frame(dst, src, 0x0800, ipv4(C, S, 17, udp(1, 7, b"x"), version=6)),
        frame(dst, src, 0x0800, ipv4(C, S, 17, udp(1, 7, b"x"), ihl=3)),
        frame(dst, src, 0x0800, ipv4(C, S, 17, udp(1, 7, b"x"), ihl=15)),
        frame(dst, src, 0x0800, ipv4(C, S, 17, udp(1, 7, b"x"), tot=65535)),
        frame(dst, src, 0x0800, ipv4(C, S, 17, udp(1, 7, b"x"), fix_csum=False)),
        frame(dst, src, 0x0800, ipv4(C, S, 17, udp(1, 7, b"x", length=400))),
        frame(dst, src, 0x0800, ipv4(C, S, 17, udp(1, 7, b"x")[:6] + b"\xde\xad" + b"x")),
        frame(dst, src, 0x0800, ipv4(C, S, 17, b"\0" * 16, frag=0x1FFF)),   # past 64 KB
        frame(dst, src, 0x0800, ipv4(C, S, 17, b"\0" * 1000, frag=0x2000)),  # MF, odd-free
        frame(dst, src, 0x0800, ipv4(C, S, 17, b"\0" * 996, frag=0x2000 | 10)),  # overlaps
        frame(dst, src, 0x0800, ipv4(C, S, 1, b"\x08\x00\x00\x00\x00\x01\x00\x01")),  # bad csum
        frame(dst, src, 0x0806, b"\x00\x01\x08\x00\x06"),              # ARP cut short
        frame(dst, src, 0x0806, b"\x00\x01\x08\x00\x09\x04\x00\x01" + b"\0" * 20),
        frame(dst, src, 0x86DD, b"\x60" + b"\0" * 39),                 # IPv6
    ]
    for _ in range(200):
        n = rnd.randrange(0, 1500)
        frames.append(frame(dst, src, 0x0800, bytes(rnd.getrandbits(8) for _ in range(n))))
    for f in frames:
        s.send(f)
    return {"sent": len(frames), "fragments": 3, "steered": sum(map(steered, frames))}


def client_main(argv):
    cmd = argv[0]
    if cmd == "echo":
        r = client_echo(int(argv[1]), int(argv[2]), int(argv[3]))
    elif cmd == "refused":
        r = client_refused()
    elif cmd == "malformed":
        r = client_malformed(argv[1], argv[2])
    else:
        raise SystemExit(f"unknown client command {cmd}")
    print(json.dumps(r))


# ---------------------------------------------------------------- test side

def run(args):
    features = set(filter(None, args.features.split(",")))
    c = Checks()
    with Pair("fni", SUBNET, queues=2, static_neigh="arp" not in features) as topo:
        extra = args.mode.split()
        if "arp" not in features:
            extra += ["--neighbour", f"{CLIENT_ADDR},{topo.client_mac}"]
        link_before = topo.server_link()
        srv = Echo(topo, args.echo, args.pmd, extra + ["--unfiltered"]).start()
        try:
            if "icmp" in features:
                r = sh("ping", "-c", "3", "-i", "0.2", "-W", "2", SERVER_ADDR, ns=topo.client_ns,
                       check=False)
                c.check("ping answered", r.returncode == 0, r.stdout[-200:])
            r = topo.in_client("echo", 64, 4, 100)
            c.check("UDP echo, 64 flows x 4", r["ok"] == 256 and r["bad"] == 0, r)
            if "arp" in features:
                neigh = sh("ip", "neigh", "show", SERVER_ADDR, ns=topo.client_ns, capture=True)
                c.check("ARP resolved the server (no static entry)",
                        topo.server_mac in neigh and "PERMANENT" not in neigh, neigh.strip())
            if "icmp" in features:
                r = topo.in_client("refused")
                c.check("closed port: ECONNREFUSED", r["error"] == "ECONNREFUSED", r)
            if "frag" in features:
                r = topo.in_client("echo", 4, 2, 8000)
                c.check("8000-byte datagrams echoed whole", r["ok"] == 8 and r["bad"] == 0, r)
            r = topo.in_client("malformed", topo.client_if, topo.server_mac)
            # af_packet's fanout has the kernel reassemble fragments first, so
            # the broken ones die there and never reach the server.
            sent = r["sent"] - (r["fragments"] if args.pmd == "af_packet" else 0)
            r = topo.in_client("echo", 8, 2, 64)
            c.check("alive and answering after malformed burst", r["ok"] == 16, r)
        finally:
            rc = srv.stop()
        c.check("server exited cleanly on SIGTERM", rc == 0, f"exit {rc}")
        st = srv.stats()
        c.check("both queues carried datagrams",
                len(st) == 2 and all(q["in"] > 0 for q in st.values()), st)
        drops = sum(sum(q["drops"].values()) for q in st.values())
        c.check(f"malformed frames counted as drops ({sent} reach the server)", drops >= sent, st)
        link_after = topo.server_link()
        c.check("interface left as found (flags, no XDP program)",
                ("PROMISC" in link_before) == ("PROMISC" in link_after)
                and "xdp" not in link_after.split("link/ether")[0], link_after)
    c.check("no namespace of this test is left", not topo.left(), topo.left())
    return c.summary()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--echo", required=True)
    p.add_argument("--pmd", choices=["af_packet", "af_xdp"], required=True)
    p.add_argument("--features", default="arp,icmp,frag")
    p.add_argument("--mode", default="", help="extra fragnet-echo flags, e.g. --poll --zero-copy")
    sys.exit(main(p, run, client_main))
