#!/usr/bin/env python3
"""End to end through the stack: fragnet-echo filtering with a rules image
compiled from nft text, kernel clients in a peer namespace.

  test_filter_e2e.py --echo build/examples/fragnet-echo --compile build/tests/nft/compile_image

Checks drop, reject (ICMP port unreachable from the stack), output-hook drops,
the filter drop counter, and a conntrack ruleset (policy drop, only
established replies leave) with fragmented datagrams (defragment first).
Prints one line per check; exits non-zero on failure.
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from netns import SERVER_ADDR, Topology, sh  # noqa: E402
from checks import Checks  # noqa: E402
from test_echo import Server  # noqa: E402

ECHO_PORT = 7

STATELESS = """
table inet fragnet {
  chain input {
    type filter hook input priority 0; policy accept;
    udp sport 40001 counter drop
    udp sport 40002 reject
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


def in_client(topo, *args, timeout=60):
    """Run this script's client side in the client namespace."""
    import json
    out = sh(sys.executable, os.path.abspath(__file__), "client", *map(str, args),
             ns=topo.client_ns, capture=True, timeout=timeout)
    return json.loads(out.strip().splitlines()[-1])


class E2EServer(Server):
    """fragnet-echo with --rules instead of --unfiltered."""
    def __init__(self, topo, echo, pmd, image):
        super().__init__(topo, echo, pmd, ["--rules", image])


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
    with tempfile.TemporaryDirectory() as tmp, Topology(prefix="fnf") as topo:
        stateless = compile_rules(args.compile, STATELESS, tmp, "stateless")
        conntrack = compile_rules(args.compile, CONNTRACK, tmp, "conntrack")

        srv = E2EServer(topo, args.echo, "af_packet", stateless)
        try:
            r = in_client(topo, "from", 40003, 64)
            c.check("accepted by the rules: echoed", r["result"] == "ok", r)
            r = in_client(topo, "from", 40001, 64)
            c.check("input drop: no answer", r["result"] == "timeout", r)
            r = in_client(topo, "from", 40002, 64)
            c.check("input reject: ICMP port unreachable", r["result"] == "refused", r)
            r = in_client(topo, "from", 40004, 64)
            c.check("output drop: the reply never leaves", r["result"] == "timeout", r)
        finally:
            rc = srv.stop()
        c.check("server exited cleanly", rc == 0, f"exit {rc}")
        st = srv.stats()
        drops = sum(q["drops"].get("filter", 0) for q in st.values())
        c.check("filter drops counted (drop, reject, output drop)", drops == 3, st)

        srv = E2EServer(topo, args.echo, "af_packet", conntrack)
        try:
            r = in_client(topo, "from", 40010, 64)
            c.check("conntrack: new request in, established reply out", r["result"] == "ok", r)
            r = in_client(topo, "from", 40011, 6000)
            c.check("conntrack: fragmented datagram, defragmented first",
                    r["result"] == "ok", r)
        finally:
            rc = srv.stop()
        c.check("server exited cleanly", rc == 0, f"exit {rc}")
    return c.summary()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        import json
        if sys.argv[2] == "from":
            print(json.dumps(client_from(int(sys.argv[3]), int(sys.argv[4]))))
        return 0
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--echo", required=True)
    p.add_argument("--compile", required=True)
    args = p.parse_args()
    if os.geteuid() != 0:
        print("needs root (network namespaces, DPDK)")
        return 1
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
