"""Throwaway network namespaces: the device under test (DUT) with its veth,
the peer that injects frames, and a twin namespace for the rules compiler
(same interface names and indexes, so `meta iif "fnd0"` means the same
thing in both). All names start with `fnd` and the pid; tests/support's
topology removes them by name, also on signals."""
import ctypes
import os
import sys

from .kpath import Topology as Addresses

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "support"))
import topology  # noqa: E402
from topology import entered  # noqa: E402,F401  (for the harness modules)


_libc = ctypes.CDLL(None, use_errno=True)


def set_fsuid(uid):
    return _libc.setfsuid(uid)


class Testbed(topology.Topology):
    """dut <-veth-> peer, plus the compiler's twin namespace; `tag` tells
    the testbeds of one process apart."""

    def __init__(self, tag):
        super().__init__("fnd")
        self.bed = tag
        self.dut, self.peer, self.twin = (self.name(tag + s) for s in "dpc")

    def setup(self):
        a = Addresses
        # No IPv6: inet tables would see router solicitations and DAD.
        # No ICMP rate limit: every reject's reply is captured (kernel.py).
        quiet = [("net.ipv4.conf.all.rp_filter", 0), ("net.ipv4.conf.default.rp_filter", 0),
                 ("net.ipv4.icmp_ratelimit", 0),
                 # ct bytes/packets/avgpkt: fragnet always accounts
                 ("net.netfilter.nf_conntrack_acct", 1)]
        for s in "dpc":
            self.netns(self.bed + s, ipv6=False, sysctls=quiet)
        dut_end = ("index", a.dut_ifindex, "address", a.dut_mac.hex(":"))
        peer_end = ("index", a.peer_ifindex, "address", a.peer_mac.hex(":"))
        self.veth(self.dut, a.dut_if, self.peer, a.peer_if, a_opts=dut_end, b_opts=peer_end)
        self.addr(self.dut, a.dut_if, "%s/%d" % (a.dut_ip, a.dut_prefix), "broadcast",
                  a.dut_bcast)
        topology.sh("ip", "-n", self.dut, "route", "add", "default", "via", a.peer_ip)
        self.neigh(self.dut, a.dut_if, a.peer_ip, a.peer_mac.hex(":"))
        self.veth(self.twin, a.dut_if, self.twin, a.peer_if, a_opts=("index", a.dut_ifindex),
                  b_opts=("index", a.peer_ifindex), up=False)
