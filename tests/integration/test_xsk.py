#!/usr/bin/env python3
"""End to end on xsk ports, the library's own AF_XDP queues: fragnet-echo runs
as uid 65534 with only CAP_NET_RAW (and the inherited memlock limit) on
xsk:IF:0 and xsk:IF:1 of a two-queue veth. A test-only XDP program
(xsk_redirect.bpf.o, attached by fn-xsk-attach as root, as fragnetd will)
steers the echo's address to its sockets and passes everything else to the
kernel, whose own address on the same veth must keep answering ping and TCP.
Then fn-xsk-meta checks the XDP metadata path on the same veth.

  test_xsk.py --echo fragnet-echo --attach fn-xsk-attach --meta fn-xsk-meta
              --obj xsk_redirect.bpf.o [--xdp-mode native|skb] [--eal ARGS]
              [--features arp,icmp,frag]

Prints one line per check and "N passed, N failed"; exits non-zero on failure.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import Checks  # noqa: E402
from echo import exit_stats  # noqa: E402
from topology import Pair, sh  # noqa: E402
import test_echo  # noqa: E402
from test_echo import CLIENT_ADDR, SERVER_ADDR, SUBNET  # noqa: E402

ECHO_PORT = 7
KERNEL_ADDR = f"{SUBNET}.3"   # the kernel's own address on the echo's veth
TCP_PORT = 8080
META_PORT, META_COUNT = 9999, 1200
NOBODY = 65534
CAP_NET_RAW = 13


# ---------------------------------------------------------------- other sides

def tcp_server():
    """In the server namespace: echo TCP on the kernel's address until killed."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((KERNEL_ADDR, TCP_PORT))
    srv.listen()
    print("listening", flush=True)
    while True:
        c, _ = srv.accept()
        with c:
            while True:
                data = c.recv(65536)
                if not data:
                    break
                c.sendall(data)


def client_tcp():
    msg = os.urandom(100000)
    with socket.create_connection((KERNEL_ADDR, TCP_PORT), timeout=5) as s:
        s.sendall(msg)
        s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            data = s.recv(65536)
            if not data:
                break
            got += data
    return {"ok": got == msg}


def client_meta_send(n):
    """One flow (so one queue) to META_PORT: every third datagram gets
    metadata from the program ('M'), the others none ('P'), so a UMEM frame
    (reused every 512 frames) holds both kinds in turn."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 40000))
    for i in range(n):
        s.sendto(b"%c%d" % (b"PPM"[i % 3], i), (SERVER_ADDR, META_PORT))
        if i % 16 == 15:
            time.sleep(0.004)   # 512 frames last 128 ms of a stalled receiver
    return {"sent": n}


def client_main(argv):
    if argv[0] == "tcp":
        r = client_tcp()
    elif argv[0] == "meta-send":
        r = client_meta_send(int(argv[1]))
    else:
        raise SystemExit(f"unknown client command {argv[0]}")
    print(json.dumps(r))


def echo_client(topo, *args):
    """test_echo.py's client side (echo, refused, malformed)."""
    return topo.in_client(*args, script=test_echo.__file__)


# ---------------------------------------------------------------- test side

def nsenter(topo, *cmd):
    # Not `ip netns exec`: it remounts /sys, hiding bpffs from BPF users.
    return ["nsenter", f"--net=/run/netns/{topo.server_ns}"] + list(cmd)


def wait_for(proc, word, output, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        output.append(line)
        if word in line:
            return True
    return False


def stop(proc, output, pid=None):
    """SIGTERM to pid (default: the process itself), then collect its output."""
    if proc.poll() is None:
        try:
            os.kill(pid or proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    output.append(out or "")
    return proc.returncode


def find_echo(echo, server_if):
    """The echo's pid (under nsenter, strace and setpriv)."""
    exe = os.path.realpath(echo)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if (os.readlink(f"/proc/{pid}/exe") == exe and
                    f"xsk:{server_if}:0".encode() in open(f"/proc/{pid}/cmdline", "rb").read()):
                return int(pid)
        except OSError:
            pass
    return None


def status(pid):
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, v = line.partition(":")
        fields[k] = v.split()
    return fields


def run_echo_checks(c, topo, features):
    """With the echo started and steered: everything a client does."""
    server_mac = topo.server_mac
    if "icmp" in features:
        r = sh("ping", "-c", "3", "-i", "0.2", "-W", "2", SERVER_ADDR, ns=topo.client_ns,
               check=False)
        c.check("ping to the echo answered", r.returncode == 0, r.stdout[-200:])
    r = echo_client(topo, "echo", 64, 4, 100)
    c.check("UDP echo, 64 flows x 4", r["ok"] == 256 and r["bad"] == 0, r)
    if "arp" in features:
        neigh = sh("ip", "neigh", "show", SERVER_ADDR, ns=topo.client_ns, capture=True)
        c.check("ARP resolved the echo (no static entry)",
                server_mac in neigh and "PERMANENT" not in neigh, neigh.strip())
    if "icmp" in features:
        r = echo_client(topo, "refused")
        c.check("closed port: ECONNREFUSED", r["error"] == "ECONNREFUSED", r)
    if "frag" in features:
        r = echo_client(topo, "echo", 4, 2, 8000)
        c.check("8000-byte datagrams echoed whole", r["ok"] == 8 and r["bad"] == 0, r)
    r = sh("ping", "-c", "3", "-i", "0.2", "-W", "2", KERNEL_ADDR, ns=topo.client_ns,
           check=False)
    c.check("the kernel's own address on the veth answers ping", r.returncode == 0,
            r.stdout[-200:])
    r = topo.in_client("tcp")
    c.check("the kernel's own address on the veth serves TCP", r["ok"], r)
    mal = echo_client(topo, "malformed", topo.client_if, server_mac)
    r = echo_client(topo, "echo", 8, 2, 64)
    c.check("alive and answering after malformed burst", r["ok"] == 16, r)
    return mal["steered"]


def run(args):
    features = set(filter(None, args.features.split(",")))
    c = Checks()
    trace = tempfile.NamedTemporaryFile(prefix="fn-xsk-strace-", suffix=".txt")
    # EAL makes its (unused) runtime directory under XDG_RUNTIME_DIR, else
    # in /tmp/dpdk: give it one of ours to remove.
    rundir = tempfile.TemporaryDirectory(prefix="fn-xsk-run-")
    os.chown(rundir.name, NOBODY, NOBODY)
    with Pair("fnx", SUBNET, queues=2, static_neigh="arp" not in features) as topo:
        topo.addr(topo.server_ns, topo.server_if, f"{KERNEL_ADDR}/24")
        server_mac = topo.server_mac
        extra = []
        if "arp" not in features:
            extra += ["--neighbour", f"{CLIENT_ADDR},{topo.client_mac}"]
        if args.eal:
            extra += ["--eal", args.eal]
        link_before = topo.server_link()
        tcp = subprocess.Popen(["ip", "netns", "exec", topo.server_ns, sys.executable,
                                os.path.abspath(__file__), "tcpserver"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # Unprivileged: uid/gid 65534, no groups, CAP_NET_RAW alone (ambient,
        # so it survives the exec), the memlock limit we have. strace, as
        # root, records any bpf() call the library would make.
        echo = subprocess.Popen(
            nsenter(topo, "strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=bpf,bind,socket",
                    "-o", trace.name,
                    "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                    "--inh-caps=-all,+net_raw", "--ambient-caps=+net_raw",
                    args.echo, "--port", f"xsk:{topo.server_if}:0",
                    "--port", f"xsk:{topo.server_if}:1", "--addr", f"{SERVER_ADDR}/24",
                    "--udp-port", str(ECHO_PORT), "--unfiltered", *extra),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=dict(os.environ, XDG_RUNTIME_DIR=rundir.name))
        echo_out, attach_out, tcp_out = [], [], []
        attach = pid = None
        try:
            if not wait_for(tcp, "listening", tcp_out):
                raise RuntimeError("TCP server did not start:\n" + "".join(tcp_out))
            if not c.check("echo started as uid 65534 on xsk ports",
                           wait_for(echo, "echoing on", echo_out), "".join(echo_out)):
                return c.summary()
            pid = find_echo(args.echo, topo.server_if)
            st = status(pid)
            c.check("echo runs as uid/gid 65534 with CAP_NET_RAW only",
                    st["Uid"] == [str(NOBODY)] * 4 and st["Gid"] == [str(NOBODY)] * 4 and
                    int(st["CapEff"][0], 16) == 1 << CAP_NET_RAW and
                    int(st["CapPrm"][0], 16) == 1 << CAP_NET_RAW, st)
            socks = [f"{fd}:{q}" for line in echo_out if "AF_XDP socket fd" in line
                     for q, fd in [(line.split(" queue ")[1].split(":")[0],
                                    line.split("socket fd ")[1].split(",")[0])]]
            c.check("two AF_XDP sockets", len(socks) == 2, "".join(echo_out))
            attach = subprocess.Popen(
                nsenter(topo, args.attach, args.obj, topo.server_if, SERVER_ADDR,
                        args.xdp_mode, str(pid), *socks),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if not c.check(f"steering program attached ({args.xdp_mode} XDP), sockets "
                           "inserted", wait_for(attach, "attached", attach_out),
                           "".join(attach_out)):
                return c.summary()
            steered = run_echo_checks(c, topo, features)
        finally:
            if attach is not None:
                stop(attach, attach_out)
            # strace (-o) ignores SIGTERM: the echo itself gets it
            rc = stop(echo, echo_out, pid or find_echo(args.echo, topo.server_if))
            stop(tcp, tcp_out)
        c.check("echo exited cleanly on SIGTERM", rc == 0, f"exit {rc}\n" + "".join(echo_out))
        calls = open(trace.name).read()
        lines = calls.splitlines()
        c.check("no bpf() system call from the echo; it made its two AF_XDP sockets and "
                "bound neither (the attacher binds them, as fragnetd does)",
                "bpf(" not in calls and
                sum("socket(AF_XDP" in l for l in lines) == 2 and
                not any("bind(" in l and "AF_XDP" in l for l in lines), calls[:1000])
        st = exit_stats("".join(echo_out))
        if args.xdp_mode == "native":
            c.check("both queues carried datagrams",
                    len(st) == 2 and all(q["in"] > 0 for q in st.values()), st)
        else:
            # Generic XDP sees a veth's frames on rx queue 0: veth records no
            # receive queue on the skb unless it runs NAPI for native XDP.
            c.check("queue 0 carried datagrams (generic XDP on veth: queue 0 only)",
                    len(st) == 2 and st[0]["in"] > 0, st)
        drops = sum(sum(q["drops"].values()) for q in st.values())
        c.check(f"malformed frames counted as drops ({steered} steered to the echo)",
                drops >= steered, "".join(echo_out))
        c.check("no XDP program after the attacher left",
                "xdp" not in topo.server_link().split("link/ether")[0], topo.server_link())

        # The metadata path, on the same veth now that it is free again.
        topo.neigh(topo.client_ns, topo.client_if, SERVER_ADDR, server_mac)
        meta_out = []
        meta = subprocess.Popen(
            nsenter(topo, args.meta, args.obj, topo.server_if, SERVER_ADDR, args.xdp_mode,
                    str(META_PORT), str(META_COUNT)),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            if wait_for(meta, "ready", meta_out):
                topo.in_client("meta-send", META_COUNT)
            meta_out.append(meta.communicate(timeout=40)[0])
        finally:
            stop(meta, meta_out)
        c.check(f"XDP metadata reaches the mbufs ({args.xdp_mode} XDP, copy mode), "
                "and only with the frames that carry it", meta.returncode == 0,
                "".join(meta_out))

        link_after = topo.server_link()
        c.check("interface left as found (flags, no XDP program)",
                link_before.split(">")[0] == link_after.split(">")[0]
                and "xdp" not in link_after.split("link/ether")[0], link_after)
    return c.summary()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        client_main(sys.argv[2:])
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "tcpserver":
        tcp_server()
        return 0
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--echo", required=True)
    p.add_argument("--attach", required=True)
    p.add_argument("--meta", required=True)
    p.add_argument("--obj", required=True)
    p.add_argument("--xdp-mode", choices=["native", "skb"], default="native")
    p.add_argument("--eal", default="", help="extra EAL arguments for the echo")
    p.add_argument("--features", default="arp,icmp,frag")
    args = p.parse_args()
    if os.geteuid() != 0:
        print("needs root (network namespaces, XDP)")
        return 1
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
