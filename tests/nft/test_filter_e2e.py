#!/usr/bin/env python3
"""End to end through the stack: fragnet-echo filtering with a rules image
compiled from nft text, kernel clients in a peer namespace.

  test_filter_e2e.py --echo build/examples/fragnet-echo --compile build/tests/nft/compile_image

Checks drop, reject (ICMP port unreachable from the stack, and the codes of
`reject with icmp host-prohibited` / `net-prohibited` as the kernel client
reads them), output-hook drops,
the filter drop counter, and a conntrack ruleset (policy drop, only
established replies leave) with fragmented datagrams (defragment first).
Prints one line per check; exits non-zero on failure.
"""
import argparse
import errno
import json
import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import Checks, main  # noqa: E402
from echo import ECHO_PORT, Echo  # noqa: E402
from topology import Pair  # noqa: E402

SUBNET = "10.99.0"
SERVER_ADDR = f"{SUBNET}.1"

STATELESS = """
table inet fragnet {
  chain input {
    type filter hook input priority 0; policy accept;
    udp sport 40001 counter drop
    udp sport 40002 reject
    udp sport 40005 reject with icmp host-prohibited
    udp sport 40006 reject with icmp net-prohibited
  }
  chain output {
    type filter hook output priority 0; policy accept;
    udp dport 40004 drop
  }
}
"""

CONNTRACK = """
table inet fragnet {
  chain input {
    type filter hook input priority 0; policy drop;
    ct state established,related accept
    udp dport 7 ct state new accept
  }
  chain output {
    type filter hook output priority 0; policy drop;
    ct state established accept
  }
}
"""


def client_from(sport, size):
    """One datagram from a fixed source port: 'ok', 'timeout' or 'refused'."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.5)
    s.bind(("0.0.0.0", sport))
    s.connect((SERVER_ADDR, ECHO_PORT))
    msg = bytes(i % 251 for i in range(size))
    s.send(msg)
    try:
        data = s.recv(70000)
        return {"result": "ok" if data == msg else "garbled"}
    except ConnectionRefusedError:
        return {"result": "refused"}
    except socket.timeout:
        return {"result": "timeout"}
    except OSError as e:
        # the kernel reports other fatal ICMP errors on a connected socket:
        # host-prohibited (code 10) as EHOSTUNREACH, net-prohibited (9) as
        # ENETUNREACH (icmp_err_convert)
        return {"result": errno.errorcode.get(e.errno, str(e.errno))}


def compile_rules(tool, text, directory, name):
    src = os.path.join(directory, name + ".nft")
    out = os.path.join(directory, name + ".img")
    with open(src, "w") as f:
        f.write(text)
    r = subprocess.run([tool, src, out], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"compile {name}: {r.stderr}")
    return out


def run(args):
    c = Checks()
    with tempfile.TemporaryDirectory() as tmp, Pair("fnf", SUBNET) as topo:
        stateless = compile_rules(args.compile, STATELESS, tmp, "stateless")
        conntrack = compile_rules(args.compile, CONNTRACK, tmp, "conntrack")

        srv = Echo(topo, args.echo, "af_packet", ["--rules", stateless]).start()
        try:
            r = topo.in_client(40003, 64)
            c.check("accepted by the rules: echoed", r["result"] == "ok", r)
            r = topo.in_client(40001, 64)
            c.check("input drop: no answer", r["result"] == "timeout", r)
            r = topo.in_client(40002, 64)
            c.check("input reject: ICMP port unreachable", r["result"] == "refused", r)
            r = topo.in_client(40005, 64)
            c.check("input reject with icmp host-prohibited: EHOSTUNREACH",
                    r["result"] == "EHOSTUNREACH", r)
            r = topo.in_client(40006, 64)
            c.check("input reject with icmp net-prohibited: ENETUNREACH",
                    r["result"] == "ENETUNREACH", r)
            r = topo.in_client(40004, 64)
            c.check("output drop: the reply never leaves", r["result"] == "timeout", r)
        finally:
            rc = srv.stop()
        c.check("server exited cleanly", rc == 0, f"exit {rc}")
        st = srv.stats()
        drops = sum(q["drops"].get("filter", 0) for q in st.values())
        c.check("filter drops counted (drop, 3 rejects, output drop)", drops == 5, st)

        srv = Echo(topo, args.echo, "af_packet", ["--rules", conntrack]).start()
        try:
            r = topo.in_client(40010, 64)
            c.check("conntrack: new request in, established reply out", r["result"] == "ok", r)
            r = topo.in_client(40011, 6000)
            c.check("conntrack: fragmented datagram, defragmented first",
                    r["result"] == "ok", r)
        finally:
            rc = srv.stop()
        c.check("server exited cleanly", rc == 0, f"exit {rc}")
    return c.summary()


def client_main(argv):
    print(json.dumps(client_from(int(argv[0]), int(argv[1]))))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--echo", required=True)
    p.add_argument("--compile", required=True)
    sys.exit(main(p, run, client_main))
