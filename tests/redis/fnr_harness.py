# SPDX-License-Identifier: BSD-3-Clause
"""Harness for the Redis fork's UDP tests: network namespaces, servers, and
RESP clients over kernel sockets.

Topology (one veth queue per server instance):

    netns fnr<pid>s                        netns fnr<pid>c
    redis-server (the fork)                test clients (kernel UDP sockets)
      UDP: libfragnet on DPDK  ---veth---  10.77.0.2/24
           10.77.0.1/24
      TCP: kernel, 127.0.0.1 (reached by creating sockets inside fnr<pid>s)

Everything created here is named with the fnr prefix and removed by name.
"""
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from topology import Pair, entered  # noqa: E402


def socket_in(ns, family, kind):
    """A socket created inside netns `ns` (None: the current one)."""
    if ns is None:
        return socket.socket(family, kind)
    with entered(ns):
        return socket.socket(family, kind)


# ---------------------------------------------------------------- RESP ---

def resp_len(buf, off=0):
    """Length of the complete RESP reply at buf[off:], or 0 if incomplete."""
    nl = buf.find(b"\r\n", off)
    if nl < 0:
        return 0
    t = buf[off:off + 1]
    head = nl + 2 - off
    if t in (b"+", b"-", b":", b"_", b",", b"#", b"("):
        return head
    if t in (b"$", b"=", b"!"):
        n = int(buf[off + 1:nl])
        if n < 0:
            return head
        return head + n + 2 if len(buf) >= off + head + n + 2 else 0
    if t in (b"*", b"%", b"~", b">", b"|"):
        n = int(buf[off + 1:nl])
        if n < 0:
            return head
        if t in (b"%", b"|"):
            n *= 2
        pos = off + head
        for _ in range(n):
            l = resp_len(buf, pos)
            if l == 0:
                return 0
            pos += l
        return pos - off
    raise ValueError("not RESP: %r" % buf[off:off + 40])


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, int):
            a = str(a)
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def parse(raw):
    """Decode one RESP2/3 reply (bytes) into Python values."""
    val, _ = _parse(raw, 0)
    return val


def _parse(b, off):
    nl = b.index(b"\r\n", off)
    t, line = b[off:off + 1], b[off + 1:nl]
    off = nl + 2
    if t == b"+":
        return line.decode(), off
    if t == b"-":
        return RespError(line.decode()), off
    if t == b":":
        return int(line), off
    if t == b"_":
        return None, off
    if t in (b"$", b"=", b"!"):
        n = int(line)
        if n < 0:
            return None, off
        return b[off:off + n], off + n + 2
    if t in (b"*", b"~", b">"):
        n = int(line)
        if n < 0:
            return None, off
        out = []
        for _ in range(n):
            v, off = _parse(b, off)
            out.append(v)
        return out, off
    if t == b"%":
        n = int(line)
        out = {}
        for _ in range(n):
            k, off = _parse(b, off)
            v, off = _parse(b, off)
            out[k] = v
        return out, off
    return line, off


class RespError(str):
    pass


class Client:
    """A RESP client over one kernel socket: UDP (one flow) or TCP."""

    def __init__(self, addr, port, proto="udp", ns=None, timeout=5.0, source=None):
        kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
        self.proto = proto
        self.s = socket_in(ns, socket.AF_INET, kind)
        if proto == "udp":
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        if source:
            self.s.bind((source, 0))
        self.s.settimeout(timeout)
        self.s.connect((addr, port))
        self.buf = b""
        self.datagrams = 0  # reply datagrams received (UDP)

    def close(self):
        self.s.close()

    def local_port(self):
        return self.s.getsockname()[1]

    def send_raw(self, data, chunk=None):
        """UDP: one datagram per `chunk` bytes (default: all in one)."""
        if self.proto == "tcp":
            self.s.sendall(data)
            return
        chunk = chunk or len(data) or 1
        for i in range(0, max(len(data), 1), chunk):
            self.s.send(data[i:i + chunk])

    def read_replies(self, n, timeout=None):
        """The raw bytes of the next n replies, as a list."""
        out = []
        deadline = time.monotonic() + (timeout or self.s.gettimeout())
        while len(out) < n:
            l = resp_len(self.buf) if self.buf else 0
            if l:
                out.append(self.buf[:l])
                self.buf = self.buf[l:]
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("got %d of %d replies (%d bytes pending)" % (len(out), n, len(self.buf)))
            self.s.settimeout(left)
            data = self.s.recv(1 << 17)
            if not data and self.proto == "tcp":
                raise ConnectionError("server closed the connection")
            self.datagrams += 1
            self.buf += data
        return out

    def raw(self, *args):
        self.send_raw(encode(*args))
        return self.read_replies(1)[0]

    def validate(self):
        """The UDP cookie handshake (redis/README.md): ask for a cookie,
        echo it; the flow is then validated (no amplification limit)."""
        cookie = self("UDPCOOKIE")
        if isinstance(cookie, RespError) or len(cookie) != 24:
            raise AssertionError("UDPCOOKIE answered %r" % cookie)
        r = self("UDPCOOKIE", cookie)
        if r != "OK":
            raise AssertionError("UDPCOOKIE <cookie> answered %r" % r)
        return self

    def __call__(self, *args):
        return parse(self.raw(*args))

    def pipeline(self, cmds, chunk=None):
        self.send_raw(b"".join(encode(*c) for c in cmds), chunk)
        return self.read_replies(len(cmds))

    def expect_silence(self, secs=0.3):
        """True when nothing arrives for secs."""
        self.s.settimeout(secs)
        try:
            data = self.s.recv(65536)
            self.buf += data
            return False
        except (socket.timeout, TimeoutError):
            return True


# -------------------------------------------------------------- server ---

def redis_bin():
    b = os.environ.get("FNR_REDIS_SERVER") or os.path.join(ROOT, "redis", "work", "bin", "redis-server")
    if not os.access(b, os.X_OK):
        raise RuntimeError("no fork at %s: run redis/build.sh" % b)
    return b


class Server:
    """One fork instance. It runs inside the server netns."""

    def __init__(self, topo, name, tcp_port, udp_port, dpdk_port=None, queue=0,
                 lcore=None, extra=(), aof=False, wrapper=(), daemon_socket=None,
                 trusted=True, rules_optional=True):
        """trusted: the client subnet is in udp-trusted-prefixes (the peer
        namespace is the LAN the fork trusts: no cookie, no amplification
        limit); test_hostile.py starts forks that trust nobody.
        rules_optional: without daemon_socket, --udp-require-rules no (the
        default, yes, refuses to start without fragnetd)."""
        self.topo, self.name = topo, name
        self.wrapper = [str(a) for a in wrapper]
        self.tcp_port, self.udp_port = tcp_port, udp_port
        self.dir = tempfile.mkdtemp(prefix="fnr-redis-%s-" % name)
        self.log = os.path.join(self.dir, "redis.log")
        args = [redis_bin(), "--port", tcp_port, "--bind", "127.0.0.1", "--dir", self.dir,
                "--logfile", self.log, "--save", "", "--protected-mode", "no",
                "--udp-port", udp_port, "--udp-address", topo.server_cidr,
                "--udp-dpdk-ports", dpdk_port or topo.dpdk_port(queue)]
        if lcore is not None:
            args += ["--udp-lcores", str(lcore)]
        if topo.static_neigh:
            args += ["--udp-neighbours", " ".join("%s=%s" % (ip, topo.client_mac)
                                                  for ip in topo.client_ips)]
        # fragnetd: the test's own, or a socket nobody listens on (unfiltered,
        # never the machine's /run/fragnet).
        args += ["--udp-daemon-socket", daemon_socket or os.path.join(self.dir, "no-fragnetd.sock")]
        if daemon_socket is None and rules_optional:
            args += ["--udp-require-rules", "no"]
        if trusted:
            args += ["--udp-trusted-prefixes", "%s.0/24" % topo.server_ip.rsplit(".", 1)[0]]
        if aof:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        args += [str(a) for a in extra]
        self.args = args
        self.proc = None
        self.pid = None

    def start(self, wait=20):
        cmd = (["ip", "netns", "exec", self.topo.server_ns] if self.topo.server_ns else []) + \
            self.wrapper + [str(a) for a in self.args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited (%d):\n%s" % (self.name, self.proc.returncode, self.tail()))
            if os.path.exists(self.log) and "UDP transport: RESP on" in open(self.log).read() \
                    and "Ready to accept" in open(self.log).read():
                # The server's own pid (the one started may be a wrapper).
                m = re.search(r"^(\d+):M .*Ready to accept", open(self.log).read(), re.M)
                self.pid = int(m.group(1))
                return self
            time.sleep(0.05)
        raise RuntimeError("%s did not start:\n%s" % (self.name, self.tail()))

    def tail(self, n=30):
        try:
            return "".join(open(self.log).readlines()[-n:])
        except OSError:
            return "(no log)"

    def tcp(self, timeout=5.0):
        return Client("127.0.0.1", self.tcp_port, "tcp", ns=self.topo.server_ns, timeout=timeout)

    def udp(self, timeout=5.0, source=None):
        return Client(self.topo.server_ip, self.udp_port, "udp", ns=self.topo.client_ns, timeout=timeout,
                      source=source)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _signal(self, sig):
        for pid in (self.pid, self.proc.pid):
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, TypeError):
                pass

    def kill9(self):
        if self.alive():
            self._signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.alive():
            if self.pid:
                os.kill(self.pid, signal.SIGTERM)
            else:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Topology(Pair):
    """The fork's veth pair: `queues` queues (one per server instance), the
    DPDK driver the servers use, the client at .2 and more client
    addresses at `extra_hosts`, which the fork learns statically or by ARP."""

    def __init__(self, driver="af_xdp", static_neigh=True, queues=1, extra_hosts=()):
        super().__init__("fnr", "10.77.0", queues=queues, hosts=(2,) + tuple(extra_hosts),
                         static_neigh=static_neigh)
        self.driver, self.static_neigh = driver, static_neigh

    def dpdk_port(self, queue=0):
        if self.driver == "af_packet":
            return self.dpdk_ports("af_packet", queues=1)[0]
        return self.af_xdp_port(queue)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def rand_bytes(n, seed=1):
    r = random.Random(seed)
    return bytes(r.getrandbits(8) for _ in range(n))
