"""Throwaway network namespaces: the device under test (DUT) with its veth,
the peer that injects frames, and a twin namespace for the rules compiler
(same interface names and indexes, so `meta iif "fnd0"` means the same
thing in both). All names start with `fnd`; whoever creates a testbed
removes it by name."""
import contextlib
import ctypes
import os
import subprocess

from .kpath import Topology

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def _setns_fd(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


@contextlib.contextmanager
def entered(name):
    """Run the body in network namespace `name` (this thread), then return.
    Sockets opened inside stay in that namespace."""
    back = os.open("/proc/self/ns/net", os.O_RDONLY)
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        _setns_fd(fd)
        yield
    finally:
        os.close(fd)
        _setns_fd(back)
        os.close(back)


def set_fsuid(uid):
    return _libc.setfsuid(uid)


def sysctl(key, value):
    """Write a sysctl of the current network namespace (if it exists)."""
    path = "/proc/sys/" + key.replace(".", "/")
    if os.path.exists(path):
        with open(path, "w") as f:
            f.write(str(value))


def _ip(*args):
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if r.returncode:
        raise RuntimeError("ip %s: %s" % (" ".join(args), r.stderr.strip()))


class Testbed:
    """dut <-veth-> peer, plus the compiler's twin namespace."""

    def __init__(self, tag):
        base = "fnd%d%s" % (os.getpid(), tag)
        self.dut, self.peer, self.twin = base + "d", base + "p", base + "c"
        self.created = []

    def __enter__(self):
        try:
            self._create()
        except BaseException:
            self.destroy()
            raise
        return self

    def __exit__(self, *exc):
        self.destroy()

    def _create(self):
        t = Topology
        for ns in (self.dut, self.peer, self.twin):
            _ip("netns", "add", ns)
            self.created.append(ns)
            with entered(ns):
                # No IPv6: inet tables would see router solicitations and DAD.
                sysctl("net.ipv6.conf.all.disable_ipv6", 1)
                sysctl("net.ipv6.conf.default.disable_ipv6", 1)
                sysctl("net.ipv4.conf.all.rp_filter", 0)
                sysctl("net.ipv4.conf.default.rp_filter", 0)
        _ip("-n", self.dut, "link", "add", t.dut_if, "index", str(t.dut_ifindex),
            "address", t.dut_mac.hex(":"), "type", "veth", "peer", "name", t.peer_if,
            "index", str(t.peer_ifindex), "address", t.peer_mac.hex(":"), "netns", self.peer)
        _ip("-n", self.dut, "addr", "add", "%s/%d" % (t.dut_ip, t.dut_prefix),
            "broadcast", t.dut_bcast, "dev", t.dut_if)
        _ip("-n", self.dut, "link", "set", "lo", "up")
        _ip("-n", self.dut, "link", "set", t.dut_if, "up")
        _ip("-n", self.peer, "link", "set", t.peer_if, "up")
        _ip("-n", self.dut, "route", "add", "default", "via", t.peer_ip)
        _ip("-n", self.dut, "neigh", "replace", t.peer_ip, "lladdr", t.peer_mac.hex(":"),
            "dev", t.dut_if, "nud", "permanent")
        _ip("-n", self.twin, "link", "add", t.dut_if, "index", str(t.dut_ifindex),
            "type", "veth", "peer", "name", t.peer_if, "index", str(t.peer_ifindex))

    def destroy(self):
        for ns in reversed(self.created):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)
        self.created = []
