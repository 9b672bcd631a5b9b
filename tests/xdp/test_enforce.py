#!/usr/bin/env python3
"""Kernel enforcement end to end: fragnetd owns the XDP program of a veth,
fragnet-echo serves its own address on that veth through xsk ports as an
unprivileged user (uid 65534, CAP_NET_RAW only), and the kernel keeps the
same veth for itself at another address.

  test_enforce.py --fragnetd F --fragnetctl C --echo E [--xdp-mode native|skb]

Checks: the kernel's own address answers ping and TCP while the echo answers
UDP; rules run in the kernel where they can and in-process after the first
rule that cannot, with counters that add up to what was sent; an echo that
filters nothing itself (FRAGNET_TEST_SKIP_FILTER, a hostile application)
still gets nothing a kernel rule drops, and cannot detach the program or
touch its maps; fragnetd killed with -9 leaves the kernel enforcing, and a new
one adopts the program rather than attaching again; rules reloaded under
traffic lose no datagram. Prints one line per check and "N passed, N failed".
"""
import argparse
import ctypes
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import Checks, main  # noqa: E402
from fragnetd import Daemon  # noqa: E402
from process import stop_process  # noqa: E402
from topology import Pair, sh  # noqa: E402
from ctl_wire import HDR, MAGIC, VERSION  # noqa: E402

SUBNET = "10.87.0"
HOST_ADDR = f"{SUBNET}.1"      # the kernel's, on the server end
APP_ADDR = f"{SUBNET}.10"      # the echo's, steered to it
CLIENT = f"{SUBNET}.2"
DROPPED = f"{SUBNET}.66"       # dropped by a prerouting rule, in the kernel
OTHER_ADDR = f"{SUBNET}.20"    # another application's, once the echo's is removed
ECHO_PORT, DISCARD_PORT, TCP_PORT = 7, 9, 8080
NOBODY = 65534

RULES = """table inet echo {
	chain pre {
		type filter hook prerouting priority -10; policy accept;
		ip saddr %(dropped)s counter drop
	}
	chain in {
		type filter hook input priority 0; policy accept;
		udp dport %(discard)d counter drop
		ip saddr %(client)s udp dport %(echo)d counter
		limit rate 100000/second counter
		udp dport %(echo)d counter accept
	}
}
""" % {"dropped": DROPPED, "discard": DISCARD_PORT, "client": CLIENT, "echo": ECHO_PORT}

# The other application's, which accepts everything.
OTHER_RULES = """table inet other {
	chain in {
		type filter hook input priority 0; policy accept;
	}
}
"""

# The port 9 rule changed in place (same handle), the others not.
RULES_C = RULES.replace("udp dport %d counter drop" % DISCARD_PORT,
                        "ip saddr != 10.86.0.5 udp dport %d counter drop" % DISCARD_PORT, 1)

# The same, with one more rule at the front: a new generation each load.
RULES_B = RULES.replace("policy accept;\n\t\tudp dport", "policy accept;\n\t\tip saddr 10.86.0.9 "
                        "counter drop\n\t\tudp dport", 1)


# ---------------------------------------------------------------- client side

def client(argv):
    """In the client namespace: udp SRC N PORT -> replies; tcp -> echoed."""
    what = argv[0]
    if what == "udp":
        src, n, port = argv[1], int(argv[2]), int(argv[3])
        socks = []
        for i in range(4):   # four flows: both queues
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((src, 0))
            socks.append(s)
        # Lockstep (the in-process limit must see one request at a time),
        # but a reply that comes late on a loaded machine still counts.
        replied = set()

        def take(s, timeout):
            s.settimeout(timeout)
            try:
                data, _ = s.recvfrom(2048)
            except (socket.timeout, ConnectionRefusedError):
                return False
            if data.startswith(b"x") and data[1:].isdigit() and int(data[1:]) < n:
                replied.add(int(data[1:]))
            return True

        for i in range(n):
            s = socks[i % 4]
            s.sendto(b"x%d" % i, (APP_ADDR, port))
            deadline = time.monotonic() + 0.5
            while i not in replied and time.monotonic() < deadline:
                take(s, max(deadline - time.monotonic(), 0.001))
        for s in socks:
            while take(s, 0.3):
                pass
        got = len(replied)
        print(json.dumps({"replies": got}))
    elif what == "send":
        dst, n, port = argv[1], int(argv[2]), int(argv[3])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(n):
            s.sendto(b"y%d" % i, (dst, port))
        print(json.dumps({"sent": n}))
    elif what == "tcp":
        s = socket.create_connection((HOST_ADDR, TCP_PORT), timeout=3)
        s.sendall(b"kernel" * 1000)
        data = b""
        while len(data) < 6000:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        print(json.dumps({"ok": data == b"kernel" * 1000}))
    elif what == "tcpserver":
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((HOST_ADDR, TCP_PORT))
        srv.listen(4)
        print("listening", flush=True)
        while True:
            c, _ = srv.accept()
            data = b""
            while len(data) < 6000:
                chunk = c.recv(65536)
                if not chunk:
                    break
                data += chunk
            c.sendall(data)
            c.close()


def in_client(topo, *args):
    out = sh(sys.executable, os.path.abspath(__file__), "client", *map(str, args),
             ns=topo.client_ns, capture=True, timeout=120)
    return json.loads(out.strip().splitlines()[-1])


def udp(topo, n, src=CLIENT, port=ECHO_PORT):
    return in_client(topo, "udp", src, n, port)["replies"]


# ---------------------------------------------------------------- server side

def start_echo(topo, daemon, hostile=False):
    env = dict(daemon.env)
    if hostile:
        env["FRAGNET_TEST_SKIP_FILTER"] = "1"
    cmd = ["ip", "netns", "exec", topo.server_ns,
           "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
           "--inh-caps=-all,+net_raw", "--ambient-caps=+net_raw",
           ARGS.echo, "--port", f"xsk:{topo.server_if}:0", "--port", f"xsk:{topo.server_if}:1",
           "--addr", f"{APP_ADDR}/24", "--udp-port", str(ECHO_PORT)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env=env)
    out = []
    deadline = time.time() + 30
    while time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        out.append(line)
        if "echoing on" in line:
            return p, out
    stop_process(p)
    raise RuntimeError("fragnet-echo did not start:\n" + "".join(out))


def rules_json(daemon):
    for a in daemon.ctl_json("list", "ruleset")["apps"]:
        if a["name"] == "echo":
            return a
    return None


def counter_total(app, handle):
    """The rule's packets: in-process plus kernel, current generation."""
    gen = app["generation"]
    inproc = sum(c["packets"] for c in app["counters"]
                 if c.get("handle") == handle and c["generation"] == gen)
    kernel = sum(c["packets"] for c in app.get("kernel_counters", [])
                 if c.get("handle") == handle and c["generation"] == gen)
    return inproc, kernel


def load_and_wait_kernel(c, daemon, name, text):
    """Load rules and wait until the kernel enforces the new generation."""
    gen = daemon.app("echo")["generation"]
    rc, _, err = daemon.ctl("load", daemon.rules_file(name, text))
    deadline = time.time() + 10
    while time.time() < deadline:
        apps = daemon.ctl_json("apps")["apps"]
        k = apps[0].get("kernel") if apps else None
        if k and apps[0]["generation"] == gen + 1 and k["generation"] == gen + 1:
            return
        time.sleep(0.05)
    c.check(f"load of {name}: the kernel moves to the new generation", False, (rc, err))


def rules_of(app, chain):
    """[(handle, enforced)] of a chain, in order, from the JSON listing."""
    return [(r["handle"], r["enforced"]) for r in app["rules"] if r["chain"] == chain]


def as_nobody(topo, *cmd):
    """A command in the server namespace as the echo's user, with its one
    capability: (exit status, output)."""
    r = sh("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
           "--inh-caps=-all,+net_raw", "--ambient-caps=+net_raw", *cmd, ns=topo.server_ns,
           check=False)
    return r.returncode, (r.stdout + r.stderr).strip()


BPF_OBJ_GET, BPF_PROG_GET_FD_BY_ID, BPF_MAP_GET_FD_BY_ID = 7, 13, 14


def bpf_as_nobody(cmd, attr):
    """One bpf() call made by a child that became uid 65534 with CAP_NET_RAW
    only (as the echo runs): its errno."""
    pid = os.fork()
    if pid == 0:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            buf = ctypes.create_string_buffer(attr, 128)
            rc = libc.syscall(321, cmd, buf, 128)   # __NR_bpf on x86_64
            os._exit(0 if rc >= 0 else ctypes.get_errno())
        except BaseException:  # noqa: BLE001
            os._exit(255)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def kernel_moves_to(daemon, generation, timeout):
    """Seconds until fragnetd logs that the kernel enforces `generation`
    for the echo's address (or a later one), or None."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        for m in re.finditer(r"the kernel enforces generation (\d+)", daemon.log_text()):
            if int(m.group(1)) >= generation:
                return time.monotonic() - start
        time.sleep(0.05)
    return None


def generation_of(daemon):
    return daemon.ctl_json("stats")["generation"]


def check_without_processes(c, daemon, topo):
    """After an adoption, with the echo back and gone again: a load reaches
    the kernel at once (no process to wait for), not after the grace a
    restarted daemon gives processes to come back."""
    rc, _, err = daemon.ctl("load", daemon.rules_file("c.nft", "flush ruleset\n" + RULES_C))
    took = kernel_moves_to(daemon, generation_of(daemon), 15)
    c.check("after an adoption, the echo back and gone: a load reaches the kernel at once "
            "(< 2 s, not the 10 s grace)", rc == 0 and took is not None and took < 2,
            (rc, err, took))


def check_never_applies(c, daemon, topo):
    """A process of the application that never applies, and nft edits in the
    daemon's namespace more often than apply_timeout_ms: the kernel moves
    within apply_timeout_ms of the first, not once the edits stop."""
    start_gen = generation_of(daemon) + 1
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(daemon.socket)
    s.send(HDR.pack(MAGIC, VERSION, 1, HDR.size + 72, 0) +
           struct.pack("<II64s", 1, 0, b"echo"))            # HELLO, never APPLIED
    try:
        edits = subprocess.Popen([sys.executable, "-c", f"""
import subprocess, time
for i in range(12):
    subprocess.run(["ip", "netns", "exec", {daemon.netns!r}, "nft", "add", "rule", "inet",
                    "echo", "in", "ip", "saddr", "10.86.1.%d" % (i + 1), "counter", "drop"],
                   check=True)
    time.sleep(0.5)
"""])
        took = kernel_moves_to(daemon, start_gen, 4.5)
        edits.wait(timeout=30)
    finally:
        s.close()
    c.check("a process that never applies, nft edits every 0.5 s: the kernel moves within "
            "apply_timeout_ms (2 s) of the first, not once the edits stop",
            took is not None and took < 3.5 and edits.returncode == 0, took)


def check_reconfigured(c, daemon, topo):
    """Reconfigured while fragnetd is down: the echo's application removed,
    another given another address on the veth. The echo's process, still
    running with its sockets on both queues, gets none of its traffic."""
    def echo_rx():
        deadline = time.monotonic() + 15   # its reconnect backoff reaches 5 s
        while time.monotonic() < deadline:
            for a in daemon.ctl_json("stats")["apps"]:
                if a["name"] == "echo" and a.get("answered", True):
                    return a["total"]["rx_packets"]
            time.sleep(0.2)
        return None

    daemon.kill9()
    daemon.extra = daemon.extra.replace("app.echo.", "app.other.").replace(APP_ADDR, OTHER_ADDR)
    daemon.start(rules=daemon.rules_file("other.nft", RULES + OTHER_RULES),
                 netns=topo.server_ns)
    topo.neigh(topo.client_ns, topo.client_if, OTHER_ADDR, topo.server_mac)
    before = echo_rx()
    in_client(topo, "send", OTHER_ADDR, 20, ECHO_PORT)
    time.sleep(0.5)
    after = echo_rx()
    c.check("reconfigured while fragnetd was down: the removed application's process gets "
            "none of the new application's traffic", before is not None and after == before,
            (before, after))


def prog_id(topo):
    """The XDP program attached to the server end (0: none)."""
    out = sh("ip", "-d", "link", "show", topo.server_if, ns=topo.server_ns, capture=True)
    m = re.search(r"prog/xdp(?:generic)? id (\d+)", out)
    return int(m.group(1)) if m else 0


def run(args):
    global ARGS
    ARGS = args
    c = Checks()
    pin_dir = f"/sys/fs/bpf/fragnet-test-{os.getpid()}"
    with Pair("fnx", SUBNET, queues=2, hosts=(2, 66)) as topo:
        topo.addr(topo.server_ns, topo.server_if, f"{HOST_ADDR}/24")
        daemon = Daemon(args.fragnetd, args.fragnetctl, extra_config=(
            f"app_users = {NOBODY}\nxdp_pin_dir = {pin_dir}\nxdp_mode = {args.xdp_mode}\n"
            f"app.echo.interface = {topo.server_if}\napp.echo.address = {APP_ADDR}\n"
            f"app.echo.users = {NOBODY}\n"))
        tcp = subprocess.Popen(["ip", "netns", "exec", topo.server_ns, sys.executable,
                                os.path.abspath(__file__), "client", "tcpserver"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        tcp.stdout.readline()
        echo = None
        try:
            daemon.start(rules=daemon.rules_file("echo.nft", RULES), netns=topo.server_ns)
            first_id = prog_id(topo)
            c.check("fragnetd attached its XDP program to the veth", first_id > 0,
                    daemon.log_text())

            echo, out = start_echo(topo, daemon)
            c.check("echo serves its address through xsk ports as uid 65534",
                    udp(topo, 40) == 40, "".join(out))
            c.check("the kernel's own address on the same veth answers ping",
                    sh("ping", "-c", "2", "-W", "1", HOST_ADDR, ns=topo.client_ns,
                       check=False).returncode == 0)
            c.check("... and TCP", in_client(topo, "tcp")["ok"])

            app = rules_json(daemon)
            pre, inp = rules_of(app, "pre"), rules_of(app, "in")
            c.check("rules before the limit run in the kernel, the limit and after it "
                    "in-process", [e for _, e in pre] == ["kernel"] and
                    [e for _, e in inp] == ["kernel", "kernel", "in-process", "in-process"],
                    (pre, inp))
            apps = daemon.ctl_json("apps")["apps"]
            k = apps[0].get("kernel") if apps else None
            c.check("fragnetctl apps shows the XDP mode and program ids",
                    k is not None and k["program_id"] == first_id and k["rules_program_id"] > 0
                    and k["mode"] == args.xdp_mode, apps)
            text = daemon.ctl("list", "ruleset")[1]
            c.check("fragnetctl list ruleset marks each rule kernel or in-process",
                    "# kernel" in text and "# in-process: limit" in text, text)

            # Counters add up: each request is counted once by every rule on
            # its path, in the kernel or in-process, never both.
            n = 60
            before = rules_json(daemon)
            got = udp(topo, n)
            after = rules_json(daemon)
            delta = [tuple(x - y for x, y in zip(counter_total(after, h), counter_total(before, h)))
                     for h, _ in pre + inp]
            c.check(f"{n} requests: counted once per rule on their path, in the kernel "
                    "(prerouting drop, port 9 drop, client rule) or in-process (limit, accept)",
                    got == n and delta == [(0, 0), (0, 0), (0, n), (n, 0), (n, 0)], delta)
            rc, prom, err = daemon.ctl("stats", "--format", "prometheus")
            kc = {(x["chain"], x["handle"]): x["packets"] for x in after["kernel_counters"]
                  if x["generation"] == after["generation"]}
            pc = {(m[0], int(m[1])): int(m[2]) for m in re.findall(
                r'^fragnet_xdp_rule_packets_total\{app="echo",table="inet echo",'
                r'chain="([^"]*)",handle="(\d+)"\} (\d+)$', prom, re.M)}
            c.check("stats -f prometheus: the kernel's rule counters, as list ruleset -j "
                    "shows them", rc == 0 and pc == kc and max(pc.values()) >= n, (pc, kc, err))

            # A load that changes one rule: the others' counters go on, in
            # the kernel and in-process; the changed one starts afresh.
            h9, hc, hl = inp[0][0], inp[1][0], inp[2][0]
            udp(topo, 5, port=DISCARD_PORT)
            before = rules_json(daemon)
            b9, bc, bl = (counter_total(before, h) for h in (h9, hc, hl))
            c.check("before the load: the kernel counted port 9 drops and client requests",
                    b9[1] >= 5 and bc[1] >= n and bl[0] >= n, (b9, bc, bl))
            load_and_wait_kernel(c, daemon, "echo-c.nft", RULES_C)
            after = rules_json(daemon)
            c.check("after a load that changes the port 9 rule: the client rule's kernel "
                    "counter and the limit rule's in-process one went on, port 9's restarted",
                    [rules_of(after, "in")[i][0] for i in range(3)] == [h9, hc, hl]
                    and counter_total(after, hc) == bc and counter_total(after, hl) == bl
                    and counter_total(after, h9) == (0, 0),
                    ([counter_total(after, h) for h in (h9, hc, hl)], b9, bc, bl))
            # (the counters, not the replies: a reply may be late on a busy machine)
            got = udp(topo, 10)
            udp(topo, 3, port=DISCARD_PORT)
            after = rules_json(daemon)
            c.check("... and they count on from there",
                    counter_total(after, hc) == (0, bc[1] + 10)
                    and counter_total(after, hl) == (bl[0] + 10, 0)
                    and counter_total(after, h9) == (0, 3),
                    ([counter_total(after, h) for h in (h9, hc, hl)], got))
            load_and_wait_kernel(c, daemon, "echo.nft", RULES)

            seen = daemon.app("echo")["rx_datagrams"]
            dropped = udp(topo, 20, src=DROPPED)
            c.check("a source a kernel rule drops gets no reply", dropped == 0)
            c.check("... and the echo never received one of its datagrams",
                    daemon.app("echo")["rx_datagrams"] == seen)
            stop_process(echo)
            echo = None

            # The hostile echo: applies nothing in-process.
            echo, out = start_echo(topo, daemon, hostile=True)
            c.check("an echo that filters nothing itself still serves", udp(topo, 20) == 20,
                    "".join(out))
            c.check("... and still gets nothing a kernel rule drops",
                    udp(topo, 20, src=DROPPED) == 0 and
                    udp(topo, 10, port=DISCARD_PORT) == 0)
            rc, msg = as_nobody(topo, "ip", "link", "set", "dev", topo.server_if, "xdp", "off")
            c.check("... it cannot detach the program (ip link set xdp off)",
                    rc != 0 and prog_id(topo) == first_id, msg)
            rc, msg = as_nobody(topo, "ip", "link", "set", "dev", topo.server_if, "xdpgeneric",
                                "off")
            c.check("... nor the generic one", rc != 0 and prog_id(topo) == first_id, msg)
            path = f"{pin_dir}/{topo.server_if}/fn_xsks".encode()
            pathbuf = ctypes.create_string_buffer(path)
            attr = ctypes.c_uint64(ctypes.addressof(pathbuf)).value.to_bytes(8, "little")
            errs = {
                "BPF_OBJ_GET (the pinned XSKMAP)": bpf_as_nobody(BPF_OBJ_GET, attr),
                "BPF_PROG_GET_FD_BY_ID": bpf_as_nobody(BPF_PROG_GET_FD_BY_ID,
                                                       first_id.to_bytes(4, "little")),
                "BPF_MAP_GET_FD_BY_ID": bpf_as_nobody(BPF_MAP_GET_FD_BY_ID,
                                                      (1).to_bytes(4, "little")),
            }
            # EPERM (bpf() is root's only here), or EACCES when the pin
            # directory already keeps it out
            c.check("... and every bpf() it tries is refused",
                    errs["BPF_OBJ_GET (the pinned XSKMAP)"] in (1, 13) and
                    errs["BPF_PROG_GET_FD_BY_ID"] == 1 and errs["BPF_MAP_GET_FD_BY_ID"] == 1,
                    errs)
            stop_process(echo)
            echo, out = start_echo(topo, daemon)

            # fragnetd killed: the kernel keeps enforcing; a new one adopts.
            daemon.kill9()
            c.check("fragnetd killed -9: the program stays attached", prog_id(topo) == first_id)
            c.check("... the echo still serves", udp(topo, 20) == 20)
            c.check("... and the kernel still drops", udp(topo, 20, src=DROPPED) == 0)
            daemon.start(rules=daemon.rules_file("echo.nft", RULES), netns=topo.server_ns)
            log = daemon.log_text()
            c.check("restarted fragnetd adopts the program, attaches nothing new",
                    "adopted" in log and prog_id(topo) == first_id, log[-2000:])
            # the echo's reconnect backoff grows to 5 s while the daemon is away
            deadline = time.monotonic() + 15
            while True:
                apps = daemon.ctl_json("apps")["apps"]
                k = apps[0].get("kernel") if apps else None
                if (k is not None and k["generation"] == apps[0]["generation"]) or \
                        time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            c.check("... and moves the kernel to its own generation once the echo is back",
                    k is not None and k["generation"] == apps[0]["generation"], apps)
            c.check("... the echo serves, the kernel drops", udp(topo, 20) == 20 and
                    udp(topo, 10, src=DROPPED) == 0)

            # Reloads under traffic: none lost, each packet by one generation.
            loader = subprocess.Popen([sys.executable, "-c", f"""
import subprocess, time
for i in range(10):
    path = {daemon.dir!r} + ("/a.nft" if i % 2 else "/b.nft")
    subprocess.run([{args.fragnetctl!r}, "-s", {daemon.socket!r}, "load", path], check=True,
                   capture_output=True)
    time.sleep(0.1)
"""])
            daemon.rules_file("a.nft", "flush ruleset\n" + RULES)
            daemon.rules_file("b.nft", "flush ruleset\n" + RULES_B)
            got = udp(topo, 400)
            c.check("10 reloads under traffic: every one of 400 requests answered",
                    loader.wait(timeout=60) == 0 and got == 400, got)

            stop_process(echo)
            echo = None
            check_without_processes(c, daemon, topo)
            check_never_applies(c, daemon, topo)
            echo, out = start_echo(topo, daemon)
            check_reconfigured(c, daemon, topo)
        finally:
            if echo is not None:
                rc, tail = stop_process(echo)
            stop_process(tcp)
            daemon.stop()
            # the program and its pins stay after fragnetd: remove them by name
            sh("ip", "link", "set", "dev", topo.server_if, "xdp", "off", ns=topo.server_ns,
               check=False)
            sh("ip", "link", "set", "dev", topo.server_if, "xdpgeneric", "off",
               ns=topo.server_ns, check=False)
            sh("rm", "-rf", pin_dir, check=False)
            daemon.cleanup()
    c.check("nothing left behind (namespaces, pins)", not topo.left() and
            not os.path.exists(pin_dir))
    return c.summary()


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="test_enforce.py")
    p.add_argument("--fragnetd", required=True)
    p.add_argument("--fragnetctl", required=True)
    p.add_argument("--echo", required=True)
    p.add_argument("--xdp-mode", default="native", choices=["native", "skb"])
    sys.exit(main(p, run, client=client))
