"""Network namespaces joined by veth pairs, for tests run as root.

Topology is the toolkit: namespaces (named PREFIX<pid><suffix>, so that
parallel runs never collide), veth pairs created inside them (neither end
ever exists in the caller's namespace, so nothing outside is touched), and
removal by name when the with-block ends, at interpreter exit, and on
SIGTERM, SIGHUP or SIGINT.

Pair is the layout most tests use: a server namespace whose veth end is
left to a DPDK port (no kernel address) and a client namespace whose end
carries the client addresses and computes its own UDP checksums (ethtool
tx off: veth leaves them to the "device", and a DPDK port reading raw
frames would see them unfinished). A second pair, for kernel servers, can
be added beside the first.
"""
import atexit
import contextlib
import ctypes
import json
import os
import re
import signal
import subprocess
import sys

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def sh(*args, check=True, ns=None, capture=False, timeout=60, env=None):
    """Run a command (inside namespace `ns` if given). With capture, its
    stdout; else the CompletedProcess. check: raise on a non-zero exit."""
    cmd = [str(a) for a in args]
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout if capture else r


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: " + os.strerror(e))


@contextlib.contextmanager
def entered(ns):
    """Run the body in network namespace `ns` (this thread), then come back.
    Sockets opened inside stay in that namespace."""
    back = os.open("/proc/self/ns/net", os.O_RDONLY)
    try:
        fd = os.open("/run/netns/" + ns, os.O_RDONLY)
        try:
            _setns(fd)
        finally:
            os.close(fd)
        try:
            yield
        finally:
            _setns(back)
    finally:
        os.close(back)


def sysctl(key, value):
    """Write a sysctl of the current namespace, if the kernel has it."""
    path = "/proc/sys/" + key.replace(".", "/")
    if os.path.exists(path):
        with open(path, "w") as f:
            f.write(str(value))


# Every topology not yet removed, for the exit and signal paths.
_live = []


def _remove_all():
    for t in list(_live):
        t.close()


def _on_signal(signum, frame):
    # Unwind the main thread: with-blocks and finally clauses stop the
    # processes they started, then the namespaces go.
    raise SystemExit(128 + signum)


def _install_cleanup():
    if _install_cleanup.done:
        return
    _install_cleanup.done = True
    atexit.register(_remove_all)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) == signal.SIG_DFL:
            signal.signal(sig, _on_signal)


_install_cleanup.done = False


class Topology:
    """Namespaces and veth pairs named `prefix` + pid + a suffix."""

    def __init__(self, prefix):
        self.tag = f"{prefix}{os.getpid()}"
        if len(self.tag) + 2 > 15:  # IFNAMSIZ - 1: interfaces are named alike
            raise ValueError(f"prefix {prefix!r} is too long for interface names")
        self.namespaces = []

    def __enter__(self):
        try:
            self.setup()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def setup(self):
        """Build the topology (subclasses); called by the with statement."""

    def name(self, suffix):
        return self.tag + suffix

    def netns(self, suffix, ipv6=True, sysctls=()):
        """Create namespace tag+suffix with its loopback up; its name."""
        _install_cleanup()
        if self not in _live:
            _live.append(self)
        ns = self.name(suffix)
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        settings = list(sysctls)
        if not ipv6:
            # no router solicitations, DAD or MLD frames on the links
            settings += [("net.ipv6.conf.all.disable_ipv6", 1),
                         ("net.ipv6.conf.default.disable_ipv6", 1)]
        if settings:
            with entered(ns):
                for key, value in settings:
                    sysctl(key, value)
        return ns

    def veth(self, ns_a, if_a, ns_b, if_b, queues=1, a_opts=(), b_opts=(), up=True):
        """A veth pair made inside ns_a with its peer moved to ns_b (which
        may be ns_a). a_opts/b_opts: extra `ip link` words for each end
        (index N, address MAC)."""
        q = ["numtxqueues", str(queues), "numrxqueues", str(queues)]
        peer = [*q, *map(str, b_opts)] + (["netns", ns_b] if ns_b != ns_a else [])
        sh("ip", "-n", ns_a, "link", "add", if_a, *q, *map(str, a_opts), "type", "veth",
           "peer", "name", if_b, *peer)
        if up:
            sh("ip", "-n", ns_a, "link", "set", if_a, "up")
            sh("ip", "-n", ns_b, "link", "set", if_b, "up")

    @staticmethod
    def addr(ns, ifname, cidr, *extra):
        sh("ip", "-n", ns, "addr", "add", cidr, *extra, "dev", ifname)

    @staticmethod
    def neigh(ns, ifname, ip, mac):
        """A permanent neighbour entry."""
        sh("ip", "-n", ns, "neigh", "replace", ip, "lladdr", mac, "dev", ifname, "nud",
           "permanent")

    @staticmethod
    def mac(ns, ifname):
        out = sh("ip", "-o", "link", "show", ifname, ns=ns, capture=True)
        return re.search(r"link/ether ([0-9a-f:]{17})", out).group(1)

    @staticmethod
    def checksums_in_software(ns, ifname):
        """The kernel finishes UDP checksums itself on this end."""
        sh("ethtool", "-K", ifname, "tx", "off", ns=ns)

    def close(self):
        """Remove every namespace by name (their veth ends go with them)."""
        for ns in reversed(self.namespaces):
            sh("ip", "netns", "del", ns, check=False)
        self.namespaces = []
        if self in _live:
            _live.remove(self)

    def left(self):
        """Namespaces of this process still present (by name)."""
        if not os.path.isdir("/run/netns"):
            return []
        return [n for n in os.listdir("/run/netns") if n.startswith(self.tag)]


class Link:
    """One veth pair of a Pair: server end `server_if`, client end
    `client_if`, a /24 with the server at .1 and the clients at `hosts`."""

    def __init__(self, server_if, client_if, subnet, queues, hosts):
        self.server_if, self.client_if = server_if, client_if
        self.queues = queues
        self.prefix_len = 24
        self.server_ip = f"{subnet}.1"
        self.server_cidr = f"{self.server_ip}/24"
        self.client_ips = [f"{subnet}.{h}" for h in hosts]
        self.client_ip = self.client_ips[0]
        self.server_mac = self.client_mac = None


class Pair(Topology):
    """Server namespace tag+"s", client namespace tag+"c", joined by a veth
    (server end tag+"0", client end tag+"1") with `queues` queues each way.

    server_kernel: the server end gets the server address in the kernel
    (a kernel server) instead of being left to a DPDK port.
    static_neigh: the client resolves the server by a permanent entry
    instead of ARP.
    """

    def __init__(self, prefix, subnet, queues=2, hosts=(2,), static_neigh=False,
                 server_kernel=False, ipv6=True):
        super().__init__(prefix)
        self.server_ns, self.client_ns = self.name("s"), self.name("c")
        self.ipv6 = ipv6
        self.links = []
        self._first = dict(subnet=subnet, queues=queues, hosts=hosts,
                           static_neigh=static_neigh, server_kernel=server_kernel)

    def setup(self):
        self.netns("s", ipv6=self.ipv6)
        self.netns("c", ipv6=self.ipv6)
        self.add_link(**self._first)
        return self

    def add_link(self, subnet, queues=1, hosts=(2,), static_neigh=False, server_kernel=False):
        """Another veth pair between the two namespaces (ends tag+"2" and
        tag+"3", and so on); returns its Link."""
        n = 2 * len(self.links)
        link = Link(self.name(str(n)), self.name(str(n + 1)), subnet, queues, hosts)
        self.veth(self.server_ns, link.server_if, self.client_ns, link.client_if, queues)
        for ip in link.client_ips:
            self.addr(self.client_ns, link.client_if, f"{ip}/{link.prefix_len}")
        if server_kernel:
            self.addr(self.server_ns, link.server_if, link.server_cidr)
        self.checksums_in_software(self.client_ns, link.client_if)
        link.server_mac = self.mac(self.server_ns, link.server_if)
        link.client_mac = self.mac(self.client_ns, link.client_if)
        if static_neigh:
            self.neigh(self.client_ns, link.client_if, link.server_ip, link.server_mac)
        self.links.append(link)
        return link

    def server_link(self):
        """`ip -d link show` of the server end (flags, XDP program)."""
        return sh("ip", "-d", "link", "show", self.server_if, ns=self.server_ns, capture=True)

    def dpdk_ports(self, pmd, queues=None, link=None):
        """DPDK port arguments (each a devargs string) that give a server
        all the queues of the link's server end."""
        link = link or self.links[0]
        i, q = link.server_if, queues or link.queues
        if pmd == "af_packet":
            # framesz: the af_packet fanout hands over datagrams the kernel
            # already reassembled, up to the frame size (lib/runtime/port.c).
            return [f"net_af_packet0,iface={i},qpairs={q},blocksz=36864,framesz=9216,"
                    "framecnt=512"]
        if pmd == "af_xdp":
            # veth has no combined channel count: one port per queue
            return [self.af_xdp_port(n, link) for n in range(q)]
        raise ValueError(pmd)

    def af_xdp_port(self, queue, link=None):
        """The net_af_xdp port of one queue of the link's server end."""
        i = (link or self.links[0]).server_if
        return f"net_af_xdp{queue},iface={i},start_queue={queue},queue_count=1"

    def in_client(self, *args, timeout=60, script=None):
        """Run the test script's client side (`SCRIPT client ARGS...`) in the
        client namespace; the JSON object it printed last."""
        out = sh(sys.executable, script or os.path.abspath(sys.argv[0]), "client", *args,
                 ns=self.client_ns, capture=True, timeout=timeout)
        return json.loads(out.strip().splitlines()[-1])

    def client_popen(self, *args, script=None):
        """The same, in the background (stdout piped)."""
        return subprocess.Popen(["ip", "netns", "exec", self.client_ns, sys.executable,
                                 script or os.path.abspath(sys.argv[0]), "client"]
                                + [str(a) for a in args], stdout=subprocess.PIPE, text=True)


def _first_link(attr):
    return property(lambda self: getattr(self.links[0], attr),
                    doc=f"{attr} of the first link")


# The first link's names, for the common case of one link.
for _attr in ("server_if", "client_if", "server_ip", "server_cidr", "client_ip", "client_ips",
              "server_mac", "client_mac", "queues"):
    setattr(Pair, _attr, _first_link(_attr))
