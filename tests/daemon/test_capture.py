#!/usr/bin/env python3
"""`fragnetctl capture` end to end: a private fragnetd, fragnet-echo
(af_packet, two queues) on a veth pair, kernel clients in the peer
namespace, a ruleset that accepts some traffic and drops some.

- The pcapng file is read back by tshark: every packet sent is there once
  per direction it took, on the interface of its queue, with the queue,
  direction, verdict, hook, chain and rule handle the rules say.
- Without -w: one line a packet.
- The bound: with fragnetctl stopped (SIGSTOP) a tiny ring fills, further
  records are dropped and counted (in stats while it runs, and in
  fragnetctl's summary at SIGINT), and the application answers every
  datagram all along.
- fragnetctl killed with SIGKILL: fragnetd tells the application to stop,
  and the next capture of it starts at once.

  test_capture.py --fragnetd F --fragnetctl C --echo E
"""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import Checks, main  # noqa: E402
from echo import ECHO_PORT, echo_under_rules  # noqa: E402
from fragnetd import Daemon, handle_of  # noqa: E402
from process import stop_process  # noqa: E402
from topology import Pair  # noqa: E402

SUBNET = "10.97.0"
SERVER_ADDR = f"{SUBNET}.1"
DROP_DPORT = 9
DROP_SPORT = 40009
GOOD_SPORT = 40007

RULES = f"""table inet echo {{
	chain input {{
		type filter hook input priority filter; policy accept;
		udp dport {DROP_DPORT} counter drop
		udp sport {DROP_SPORT} counter drop
		udp dport {ECHO_PORT} counter accept
	}}
	chain output {{
		type filter hook output priority filter; policy accept;
		udp sport {ECHO_PORT} counter accept
	}}
}}
"""


def client_echo(count, sport, port):
    """count datagrams from sport, each waiting for its echo."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if sport:
        s.bind(("", sport))
    s.settimeout(1.0)
    ok = 0
    for i in range(count):
        s.sendto(b"m%d" % i, (SERVER_ADDR, port))
        try:
            ok += s.recvfrom(2048)[0] == b"m%d" % i
        except socket.timeout:
            pass
    return {"ok": ok}


def client_send(count, sport, port):
    """count datagrams from sport, nothing expected back."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("", sport))
    for _ in range(count):
        s.sendto(b"x", (SERVER_ADDR, port))
        time.sleep(0.002)
    return {"sent": count}


def client_burst(count):
    """count datagrams at once, then the echoes that come back."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    for i in range(count):
        s.sendto(b"b%d" % i, (SERVER_ADDR, ECHO_PORT))
        if i % 32 == 31:
            time.sleep(0.001)   # the veth's queue holds only so much
    s.settimeout(1.0)
    got = set()
    try:
        while len(got) < count:
            got.add(s.recvfrom(2048)[0])
    except socket.timeout:
        pass
    return {"ok": len(got)}


def client_main(argv):
    cmd, args = argv[0], [int(a) for a in argv[1:]]
    print(json.dumps({"echo": client_echo, "send": client_send,
                      "burst": client_burst}[cmd](*args)))


def start_capture(daemon, *args, command="capture"):
    """fragnetctl capture (or trace) in the background, once it says it
    captures (traces)."""
    p = subprocess.Popen([daemon.fragnetctl, "-s", daemon.socket, command] + list(args),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    if ("tracing" if command == "trace" else "capturing") not in line:
        p.kill()
        _, err = p.communicate()
        raise RuntimeError(f"capture did not start: {line}{err} (exit {p.returncode})")
    return p


def finish(p, timeout=20):
    """(exit status, stdout, stderr) of a capture that ends by itself."""
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    return p.returncode, out, err


def summary(err):
    """(captured, dropped) from fragnetctl's last line."""
    m = re.search(r"(\d+) packets captured, (\d+) dropped by the ring", err)
    return (int(m.group(1)), int(m.group(2))) if m else None


def tshark(path):
    """[(interface name, {comment fields}, src port, dst port)] of a pcapng file."""
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-E", "separator=|",
                          "-e", "frame.interface_name", "-e", "frame.comment",
                          "-e", "udp.srcport", "-e", "udp.dstport", "-e", "ip.src"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    res = []
    for line in out.splitlines():
        ifname, comment, sport, dport, src = line.split("|")
        fields = dict(kv.split("=", 1) for kv in comment.split())
        res.append((ifname, fields, int(sport), int(dport), src))
    return res


def ring_full(daemon):
    """capture_ring_full of echo, summed over its queues."""
    for a in daemon.ctl_json("stats")["apps"]:
        if a["name"] == "echo":
            return sum(q["drops_by_reason"].get("capture_ring_full", 0)
                       for q in a["queue_stats"])
    return None


def check_pcapng(c, daemon, topo, tmp, handles):
    path = os.path.join(tmp, "f.pcapng")
    n_good, n_bad_sport, n_bad_dport = 5, 3, 2
    total = 2 * n_good + n_bad_sport + n_bad_dport
    p = start_capture(daemon, "echo", "-c", str(total), "-w", path)
    r = topo.in_client("echo", n_good, GOOD_SPORT, ECHO_PORT)
    c.check("the echoes come back while capturing", r["ok"] == n_good, r)
    topo.in_client("send", n_bad_sport, DROP_SPORT, ECHO_PORT)
    topo.in_client("send", n_bad_dport, GOOD_SPORT + 1, DROP_DPORT)
    rc, _, err = finish(p)
    c.check("capture -c N ends by itself with exit 0 after N packets, none dropped",
            rc == 0 and summary(err) == (total, 0), f"rc={rc} {err}")
    pkts = tshark(path)
    c.check("tshark reads every packet", len(pkts) == total, pkts)

    def want(sport, dport):
        if dport == DROP_DPORT:
            return ("in", "drop", "input", "input", handles["dport"])
        if sport == DROP_SPORT:
            return ("in", "drop", "input", "input", handles["sport"])
        if dport == ECHO_PORT:
            return ("in", "accept", "input", "input", handles["echo"])
        return ("out", "accept", "output", "output", handles["out"])

    bad = []
    for ifname, f, sport, dport, src in pkts:
        got = (f.get("dir"), f.get("verdict"), f.get("hook"), f.get("chain"),
               int(f.get("handle", -1)))
        if got != want(sport, dport) or ifname != f"echo:q{f.get('queue')}" or \
                (f["dir"] == "in") != (src != SERVER_ADDR):
            bad.append((ifname, f, sport, dport, src))
    c.check("each packet's queue (= its interface), direction, verdict, hook, chain and "
            "rule handle are what the rules say", not bad and pkts, bad)
    kinds = sorted((f["dir"], f["verdict"], int(f["handle"])) for _, f, _, _, _ in pkts)
    expect = sorted([("in", "accept", handles["echo"])] * n_good
                    + [("out", "accept", handles["out"])] * n_good
                    + [("in", "drop", handles["sport"])] * n_bad_sport
                    + [("in", "drop", handles["dport"])] * n_bad_dport)
    c.check("... once per packet sent and per echo", kinds == expect, (kinds, expect))


def check_text(c, daemon, topo):
    p = start_capture(daemon, "echo", "-c", "2")
    r = topo.in_client("echo", 1, GOOD_SPORT, ECHO_PORT)
    rc, out, err = finish(p)
    lines = out.splitlines()
    c.check("without -w: one line a packet, in and out, with the deciding rules",
            rc == 0 and r["ok"] == 1 and len(lines) == 2
            and any(" in " in ln and f".{ECHO_PORT}: UDP, length 2 accept (hook input "
                    "chain input handle" in ln for ln in lines)
            and any(" out " in ln and f"{SERVER_ADDR}.{ECHO_PORT} > " in ln
                    and "hook output chain output handle" in ln for ln in lines),
            f"rc={rc} {out} {err}")


def check_filter(c, daemon, topo, tmp, handles):
    """An nft filter: only what it matches is recorded, both directions."""
    path = os.path.join(tmp, "filtered.pcapng")
    rc, _, err = daemon.ctl("capture", "echo", "-c", "1", "udp", "frobnicate", "7")
    c.check("a filter nft does not understand: refused (exit 1) with nft's reason",
            rc == 1 and "capture filter" in err, f"rc={rc} {err}")
    rc, _, err = daemon.ctl("capture", "echo", "-c", "1", "udp dport 7 } table ip x {")
    c.check("a filter that tries to leave its rule: refused", rc == 1 and "only match" in err,
            f"rc={rc} {err}")
    p = start_capture(daemon, "echo", "-c", "5", "-w", path, "udp", "sport",
                      str(DROP_SPORT), "ip", "saddr", f"{SUBNET}.0/24")
    topo.in_client("echo", 4, GOOD_SPORT, ECHO_PORT)
    topo.in_client("send", 5, DROP_SPORT, ECHO_PORT)
    rc, _, err = finish(p)
    pkts = tshark(path)
    c.check("with FILTER 'udp sport N ip saddr NET': only the matching packets (dropped "
            "by their rule), none dropped by the ring",
            rc == 0 and summary(err) == (5, 0) and len(pkts) == 5
            and all(sp == DROP_SPORT and f["verdict"] == "drop"
                    and int(f["handle"]) == handles["sport"] for _, f, sp, _, _ in pkts),
            f"rc={rc} {err} {pkts}")
    p = start_capture(daemon, "echo", "-c", "2", f"udp dport {GOOD_SPORT}")
    topo.in_client("send", 3, GOOD_SPORT + 2, ECHO_PORT)   # not matched
    topo.in_client("echo", 2, GOOD_SPORT, ECHO_PORT)
    rc, out, err = finish(p)
    lines = out.splitlines()
    c.check("a filter on the reply's port records the replies only (direction out)",
            rc == 0 and len(lines) == 2 and all(" out " in ln for ln in lines),
            f"rc={rc} {out} {err}")


def check_bound(c, daemon, topo):
    """A tiny ring nobody reads: drops counted, the application unaffected."""
    burst = 400
    p = start_capture(daemon, "echo", "-B", "4", "-S", "64", "-w", os.devnull)
    p.send_signal(signal.SIGSTOP)
    try:
        r = topo.in_client("burst", burst)
        c.check("with the ring full, the application still answers every datagram",
                r["ok"] == burst, r)
        full = ring_full(daemon)
        c.check("stats count the records the full ring dropped (capture_ring_full)",
                full is not None and full > 0, full)
    finally:
        p.send_signal(signal.SIGCONT)
    time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    rc, _, err = finish(p)
    s = summary(err)
    c.check("SIGINT ends the capture cleanly (exit 0) with the summary",
            rc == 0 and s is not None, f"rc={rc} {err}")
    if s:
        # every datagram was one record in and one out: kept or dropped
        c.check("captured + dropped = every packet in and out; most were dropped",
                s[0] + s[1] == 2 * burst and s[1] > s[0], (s, burst))


def check_killed(c, daemon, topo):
    p = start_capture(daemon, "echo")
    p.send_signal(signal.SIGKILL)
    p.wait()
    deadline = time.time() + 10
    while time.time() < deadline and "fragnetctl left" not in daemon.log_text():
        time.sleep(0.05)
    c.check("fragnetctl killed: fragnetd notices and stops the application's capture",
            "fragnetctl left" in daemon.log_text(), daemon.log_text()[-1000:])
    # the application stopped it: it takes the next one (else it would refuse it
    # as busy, and the next capture would see nothing)
    p = start_capture(daemon, "echo", "-c", "2")
    r = topo.in_client("echo", 1, GOOD_SPORT, ECHO_PORT)
    rc, out, err = finish(p, timeout=10)
    c.check("... and the next capture of it works", rc == 0 and r["ok"] == 1
            and summary(err) == (2, 0), f"rc={rc} {err}")


def check_refusals(c, daemon):
    rc, _, err = daemon.ctl("capture", "nosuchapp", "-c", "1")
    c.check("an application that is not registered: refused (exit 1) with the reason",
            rc == 1 and "no application named 'nosuchapp'" in err, f"rc={rc} {err}")
    rc, _, err = daemon.ctl("capture", "echo", "-q", "5", "-c", "1")
    c.check("a queue it does not have: refused", rc == 1 and "no queue 5" in err,
            f"rc={rc} {err}")
    p = start_capture(daemon, "echo")
    try:
        rc, _, err = daemon.ctl("capture", "echo", "-c", "1")
        c.check("a second capture of the same application: refused as busy",
                rc == 1 and "captured already" in err, f"rc={rc} {err}")
    finally:
        stop_process(p)


def run(args):
    c = Checks()
    daemon = Daemon(args.fragnetd, args.fragnetctl)
    tmp = tempfile.mkdtemp(prefix="fragnet-capture-")
    try:
        with Pair("fnk", SUBNET) as topo, \
                echo_under_rules(c, daemon, topo, args.echo, RULES) as echo:
            if echo is None:
                return c.summary()
            r = topo.in_client("echo", 3, 0, ECHO_PORT)   # ARP settled
            ruleset = daemon.ctl("list", "ruleset")[1]
            handles = {
                "dport": handle_of(ruleset, f"udp dport {DROP_DPORT}"),
                "sport": handle_of(ruleset, f"udp sport {DROP_SPORT}"),
                "echo": handle_of(ruleset, f"udp dport {ECHO_PORT}"),
                "out": handle_of(ruleset, f"udp sport {ECHO_PORT}"),
            }
            c.run("pcapng read by tshark", check_pcapng, c, daemon, topo, tmp, handles)
            c.run("text lines", check_text, c, daemon, topo)
            c.run("filter", check_filter, c, daemon, topo, tmp, handles)
            c.run("the bound", check_bound, c, daemon, topo)
            c.run("fragnetctl killed", check_killed, c, daemon, topo)
            c.run("refusals", check_refusals, c, daemon)
    finally:
        daemon.cleanup()
        subprocess.run(["rm", "-rf", tmp])
    return c.summary()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--fragnetd", required=True)
    p.add_argument("--fragnetctl", required=True)
    p.add_argument("--echo", required=True)
    sys.exit(main(p, run, client_main))
