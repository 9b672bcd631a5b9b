"""Network namespaces for integration tests: a server namespace and a client
namespace joined by a two-queue veth pair. Everything is named after the test
process so that concurrent runs never collide, and removed by name."""
import os
import subprocess

SUBNET = "10.99.0"
SERVER_ADDR = f"{SUBNET}.1"
CLIENT_ADDR = f"{SUBNET}.2"


def sh(*args, check=True, ns=None, capture=False, timeout=60):
    cmd = list(args)
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    r = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout if capture else r


class Topology:
    def __init__(self, prefix="fni"):
        tag = f"{prefix}{os.getpid() % 100000}"
        self.server_ns, self.client_ns = tag + "s", tag + "c"
        self.server_if, self.client_if = tag + "0", tag + "1"

    def __enter__(self):
        try:
            self.up()
        except Exception:
            self.down()
            raise
        return self

    def __exit__(self, *exc):
        self.down()

    def up(self):
        sh("ip", "netns", "add", self.server_ns)
        sh("ip", "netns", "add", self.client_ns)
        sh("ip", "link", "add", self.server_if, "numtxqueues", "2", "numrxqueues", "2",
           "type", "veth", "peer", "name", self.client_if, "numtxqueues", "2", "numrxqueues", "2")
        sh("ip", "link", "set", self.server_if, "netns", self.server_ns)
        sh("ip", "link", "set", self.client_if, "netns", self.client_ns)
        sh("ip", "link", "set", "lo", "up", ns=self.client_ns)
        sh("ip", "link", "set", self.server_if, "up", ns=self.server_ns)
        sh("ip", "link", "set", self.client_if, "up", ns=self.client_ns)
        sh("ip", "addr", "add", f"{CLIENT_ADDR}/24", "dev", self.client_if, ns=self.client_ns)
        # The kernel leaves UDP checksums to the "device" on veth
        # (CHECKSUM_PARTIAL); a DPDK port reading raw frames would see them
        # unfinished. Real NICs finish them; here the client computes them.
        sh("ethtool", "-K", self.client_if, "tx", "off", ns=self.client_ns)

    def down(self):
        for ns in (self.server_ns, self.client_ns):
            sh("ip", "netns", "del", ns, check=False)

    def mac(self, ns, ifname):
        out = sh("ip", "-o", "link", "show", ifname, ns=ns, capture=True)
        return out.split("link/ether ")[1].split()[0]

    def server_link(self):
        return sh("ip", "-d", "link", "show", self.server_if, ns=self.server_ns, capture=True)

    def ports(self, pmd):
        """DPDK ports and queue arguments giving the server two queues."""
        i = self.server_if
        if pmd == "af_packet":
            # framesz: the af_packet fanout hands over datagrams the kernel
            # already reassembled, up to the frame size (see lib/runtime/port.c).
            return ["--port", f"net_af_packet0,iface={i},qpairs=2,blocksz=36864,"
                              "framesz=9216,framecnt=512", "--queues", "2"]
        if pmd == "af_xdp":
            return ["--port", f"net_af_xdp0,iface={i},start_queue=0,queue_count=1",
                    "--port", f"net_af_xdp1,iface={i},start_queue=1,queue_count=1"]
        raise ValueError(pmd)
