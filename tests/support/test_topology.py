#!/usr/bin/env python3
"""topology.py itself: a Pair is what it says (queues, addresses, checksum
offload off on the client end, a permanent neighbour, IPv6 off when asked,
a second link), nothing of it appears in the caller's namespace, two
processes at once get different names, and the namespaces are gone after a
with-block that raised, at a plain exit, and when the process is stopped by
SIGTERM, SIGHUP or SIGINT.

  test_topology.py          (root)
"""
import argparse
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks, main  # noqa: E402
from topology import Pair, sh  # noqa: E402


def ours(tag):
    return [n for n in os.listdir("/run/netns") if n.startswith(tag)] \
        if os.path.isdir("/run/netns") else []


def root_links():
    return sh("ip", "-o", "link", "show", capture=True)


def check_layout(c):
    with Pair("fnt", "10.61.0", queues=2, hosts=(2, 200), static_neigh=True,
              ipv6=False) as t:
        kernel = t.add_link("10.62.0", queues=1, server_kernel=True)
        c.check("namespaces tag+s and tag+c, named after the pid",
                sorted(ours(t.tag)) == sorted([t.server_ns, t.client_ns])
                and str(os.getpid()) in t.tag, ours(t.tag))
        q = sh("ls", f"/sys/class/net/{t.server_if}/queues", ns=t.server_ns, capture=True)
        c.check("2 queues each way on the server end", q.split() == ["rx-0", "rx-1", "tx-0",
                                                                     "tx-1"], q)
        addrs = sh("ip", "-o", "-4", "addr", "show", "dev", t.client_if, ns=t.client_ns,
                   capture=True)
        c.check("client addresses .2 and .200", "10.61.0.2/24" in addrs and
                "10.61.0.200/24" in addrs and t.client_ip == "10.61.0.2", addrs)
        none = sh("ip", "-o", "-4", "addr", "show", "dev", t.server_if, ns=t.server_ns,
                  capture=True)
        c.check("no kernel address on the DPDK end", none.strip() == "", none)
        off = sh("ethtool", "-k", t.client_if, ns=t.client_ns, capture=True)
        c.check("client end computes its checksums (tx off)", "tx-checksumming: off" in off)
        neigh = sh("ip", "neigh", "show", t.server_ip, ns=t.client_ns, capture=True)
        c.check("the server's MAC is a permanent neighbour of the client",
                t.server_mac in neigh and "PERMANENT" in neigh, neigh)
        v6 = sh("sysctl", "-n", "net.ipv6.conf.all.disable_ipv6", ns=t.client_ns,
                capture=True)
        c.check("IPv6 off", v6.strip() == "1", v6)
        addrs = sh("ip", "-o", "-4", "addr", "show", "dev", kernel.server_if, ns=t.server_ns,
                   capture=True)
        c.check("second link: ends tag+2/tag+3, the server address in the kernel",
                kernel.server_if == t.tag + "2" and kernel.client_if == t.tag + "3"
                and "10.62.0.1/24" in addrs, addrs)
        r = sh("ping", "-c", "1", "-W", "2", kernel.server_ip, ns=t.client_ns, check=False)
        c.check("... and it carries traffic (ping)", r.returncode == 0, r.stdout[-200:])
        c.check("nothing of it in the caller's namespace", t.tag not in root_links())
    c.check("removed at the end of the with-block", not ours(t.tag), ours(t.tag))


def check_exception(c):
    t = Pair("fnt", "10.61.0")
    try:
        with t:
            raise KeyError("boom")
    except KeyError:
        pass
    c.check("removed when the with-block raised", not ours(t.tag), ours(t.tag))


def holder(mode):
    """Set up a topology, say its tag, then wait to be stopped (or exit)."""
    t = Pair("fnt", "10.61.0")
    if mode == "exit":
        t.setup()            # no with-block: atexit removes it
        print(t.tag, flush=True)
        return
    try:
        with t:
            print(t.tag, flush=True)
            time.sleep(60)
    except KeyboardInterrupt:
        sys.exit(130)   # the with-block has removed it by now


def spawn(mode):
    # SIGHUP's default action, even when this test runs under nohup (an
    # ignored signal is inherited, and the library rightly leaves it ignored)
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "client", mode],
                         stdout=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL))
    return p, p.stdout.readline().strip()


def check_exits(c):
    p, tag = spawn("exit")
    p.wait(timeout=30)
    c.check("removed at a plain exit without a with-block", tag and not ours(tag),
            (tag, ours(tag)))
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        p, tag = spawn("hold")
        present = bool(tag) and len(ours(tag)) == 2
        p.send_signal(sig)
        rc = p.wait(timeout=30)
        c.check(f"{signal.Signals(sig).name}: removed, the process ends "
                f"(exit {rc})", present and not ours(tag) and rc == 128 + sig,
                (tag, ours(tag), rc))


def check_parallel(c):
    (a, ta), (b, tb) = spawn("hold"), spawn("hold")
    both = ta and tb and ta != tb and len(ours(ta)) == 2 and len(ours(tb)) == 2
    for p in (a, b):
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
    c.check("two processes at once: distinct names, both set up", both, (ta, tb))
    c.check("... and both removed", not ours(ta) and not ours(tb))


def run(args):
    c = Checks()
    check_layout(c)
    check_exception(c)
    check_exits(c)
    check_parallel(c)
    return c.summary()


if __name__ == "__main__":
    sys.exit(main(argparse.ArgumentParser(description=__doc__), run,
                  lambda argv: holder(argv[0])))
