#!/usr/bin/env python3
"""memif peers that leave: fragnet-echo serves two memif ports (the server
end of two pairs, one queue each, polled by one thread) while fn-gen, a DPDK
load generator, drives each pair from its own process. The peer of pair A is
killed with -9 under traffic, again and again: DPDK 22.11's memif PMD unmaps
the shared rings under a burst in progress when its peer leaves, so without
lib/runtime/peer_gone.c the echo dies of SIGSEGV within a few kills. Checks
that the echo survives every kill, keeps serving pair B all along, serves
pair A again when a new peer connects, and counts each time pair A's link
went down. With --fragnetd and --fragnetctl the echo registers with a
private fragnetd, whose `fragnetctl stats` (text, JSON, Prometheus) must
show pair A's count going from 0 to one per kill while pair B's stays 0.

  test_memif.py --echo build/examples/fragnet-echo --gen build/bench/stack/fn-gen \
      [--fragnetd build/daemon/fragnetd --fragnetctl build/tools/fragnetctl/fragnetctl]

Prints one line per check and "N passed, N failed"; exits non-zero on failure.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import Checks, main  # noqa: E402
from fragnetd import Daemon  # noqa: E402
from process import stop_process  # noqa: E402

KILLS = 10
RULES = """table inet echo {
	chain input {
		type filter hook input priority filter; policy accept;
	}
}
"""
SUBNET = "10.98.0"
ECHO_MAC = "02:00:00:98:00:01"


def memif(name, role, sock, mac):
    return f"{name},role={role},id=0,socket={sock},socket-abstract=no,mac={mac}"


class Gen:
    """One fn-gen process, the client end of a memif pair, in closed loop
    against the echo from its own address."""

    def __init__(self, args, tmp, name, sock, host, duration):
        self.log = os.path.join(tmp, f"{name}.log")
        self.out = open(self.log, "w")
        self.proc = subprocess.Popen(
            [args.gen, "-l", "1", "--in-memory", "--no-pci", "--no-telemetry",
             "--log-level=*:error", f"--file-prefix=fn-memif-{os.getpid()}-{name}",
             "--vdev", memif("net_memif0", "client", sock, f"02:00:00:98:00:{host:02x}"), "--",
             "--dst-mac", ECHO_MAC, "--src-ip", f"{SUBNET}.{host}",
             "--dst-ip", f"{SUBNET}.1", "--size", "64", "--window", "32",
             "--warmup", "0.5", "--duration", str(duration)],
            stdout=self.out, stderr=subprocess.STDOUT, text=True)

    def text(self):
        with open(self.log) as f:
            return f.read()

    def seconds(self):
        """Replies fn-gen counted in each second so far."""
        return [int(x) for x in re.findall(r"^fn-gen: (\d+) pps$", self.text(), re.M)]

    def wait_traffic(self, after=0, timeout=30):
        """Until fn-gen reports a second with replies, past its first `after`
        seconds (or it ended)."""
        deadline = time.time() + timeout
        while time.time() < deadline and self.proc.poll() is None:
            if any(self.seconds()[after:]):
                return True
            time.sleep(0.1)
        return False

    def result(self, timeout):
        """fn-gen's result line as a dict, once it ends."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()
        m = re.search(r"^rx_pps=.*$", self.text(), re.M)
        return dict(kv.split("=", 1) for kv in m.group(0).split()) if m else {}

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.out.close()


def reported_link_down(daemon):
    """{queue: link_down} of the echo as fragnetd reports it, once from each
    of `stats` as text, `stats -j` and `stats -f prometheus`."""
    stats = daemon.ctl_json("stats")
    json_view = {q["queue"]: q["link_down"] for a in stats["apps"] if a["name"] == "echo"
                 for q in a["queue_stats"]}
    _, text, _ = daemon.ctl("stats")
    head = next((line.split() for line in text.splitlines() if "LINK_DOWN" in line), [])
    col = head.index("LINK_DOWN") if "LINK_DOWN" in head else None
    text_view = {int(w[0]): int(w[col]) for w in map(str.split, text.splitlines())
                 if col is not None and len(w) > col and w[0].isdigit()}
    _, prom, _ = daemon.ctl("stats", "-f", "prometheus")
    prom_view = {int(q): int(v) for q, v in re.findall(
        r'^fragnet_queue_link_down_total\{app="echo",pid="\d+",queue="(\d+)"\} (\d+)$',
        prom, re.M)}
    return json_view, text_view, prom_view


def check_reported(c, daemon, when, want):
    if daemon is None:
        return
    views = reported_link_down(daemon)
    c.check(f"fragnetd reports link_down {want} {when} (stats text, JSON, Prometheus)",
            all(v == want for v in views), views)


def run(args):
    c = Checks()
    tmp = tempfile.mkdtemp(prefix=f"fn-memif-{os.getpid()}-")
    sock_a, sock_b = os.path.join(tmp, "a.sock"), os.path.join(tmp, "b.sock")
    daemon = None
    if args.fragnetd:
        daemon = Daemon(args.fragnetd, args.fragnetctl)
        try:
            daemon.start(rules=daemon.rules_file("rules.nft", RULES))
        except RuntimeError as e:
            daemon.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)
            c.check("fragnetd starts", False, str(e)[-800:])
            return c.summary()
    echo_log = os.path.join(tmp, "echo.log")
    echo_out = open(echo_log, "w")
    echo = subprocess.Popen(
        [args.echo, "--port", memif("net_memif0", "server", sock_a, ECHO_MAC),
         "--port", memif("net_memif1", "server", sock_b, ECHO_MAC), "--addr", f"{SUBNET}.1/24",
         "--unfiltered", "--poll", "--lcores", "0",
         "--eal", f"--in-memory --file-prefix=fn-memif-{os.getpid()}-echo"],
        stdout=echo_out, stderr=subprocess.STDOUT, text=True,
        env=daemon.env if daemon else None)

    def echo_text():
        with open(echo_log) as f:
            return f.read()
    gens = []
    try:
        if daemon:
            c.check("the echo applies fragnetd's rules",
                    daemon.wait_applied("echo", 1, timeout=40) is not None,
                    daemon.log_text()[-800:])
        deadline = time.time() + 30
        while time.time() < deadline and not (os.path.exists(sock_a) and
                                              os.path.exists(sock_b)):
            time.sleep(0.1)
        if not c.check("fragnet-echo listens on both memif sockets",
                       echo.poll() is None and os.path.exists(sock_b)):
            stop_process(echo)
            print(echo_text()[-800:])
            return c.summary()

        # Pair B's peer runs through all the kills on pair A.
        b = Gen(args, tmp, "b", sock_b, 3, 300)
        gens.append(b)
        c.check("pair B: its peer gets echoes", b.wait_traffic(), b.text()[-500:])
        check_reported(c, daemon, "before any kill", {0: 0, 1: 0})

        survived = served_b = 0
        for i in range(KILLS):
            a = Gen(args, tmp, f"a{i}", sock_a, 2, 300)
            gens.append(a)
            if not a.wait_traffic():
                c.check(f"pair A, peer {i}: gets echoes", False, a.text()[-500:])
                break
            time.sleep(0.5)
            a.kill9()
            time.sleep(0.3)
            if echo.poll() is not None:
                break
            survived += 1
            served_b += b.wait_traffic(after=len(b.seconds()))
        c.check(f"the echo survived {survived} of {KILLS} kill -9 of pair A's peer "
                f"under traffic", survived == KILLS and echo.poll() is None,
                f"exit status {echo.returncode}")
        check_reported(c, daemon, f"after {KILLS} kills on pair A", {0: KILLS, 1: 0})

        a = Gen(args, tmp, "a-back", sock_a, 2, 2)
        gens.append(a)
        r = a.result(timeout=60)
        c.check("pair A: a new peer gets echoes again",
                float(r.get("rx_pps", 0)) > 0 and int(r.get("bad", 1)) == 0, a.text()[-500:])

        c.check(f"pair B: served after each kill on pair A ({served_b} of {KILLS})",
                served_b == KILLS, b.text()[-500:])
        b.proc.send_signal(signal.SIGINT)
        r = b.result(timeout=60)
        c.check("pair B: its peer ends with nothing but echoes",
                float(r.get("rx_pps", 0)) > 0 and int(r.get("bad", 1)) == 0,
                r or b.text()[-500:])

        # memif sees a peer leave in its interrupt thread and the echo's link
        # watch then reads the link state (every ms): on a loaded machine that
        # can come after fn-gen has exited, so wait for it before stopping.
        deadline = time.time() + 10
        while time.time() < deadline and "queue 1: port 1 link down" not in echo_text():
            time.sleep(0.05)
        rc, _ = stop_process(echo)
        out = echo_text()
        c.check("the echo stops cleanly", rc == 0, out[-800:])
        # pair A: the kills and its last peer's exit; pair B: its peer's exit
        downs = [int(x) for x in re.findall(r"^queue \d+: .*, link down (\d+),", out, re.M)]
        c.check(f"queue 0 (pair A) counted {KILLS + 1} losses of link, queue 1 (pair B) one",
                downs == [KILLS + 1, 1], (downs, out[-800:]))
        mid_rx = out.count("its peer left during a receive burst")
        mid_tx = out.count("its peer left during a transmit burst")
        c.check(f"each loss is logged ({mid_rx} in the middle of a receive burst, "
                f"{mid_tx} of a transmit burst), and each return",
                out.count("queue 0: port 0 link down") == KILLS + 1 and
                out.count("queue 0: port 0 link up") == KILLS + 1, out[-1500:])
    finally:
        for g in gens:
            if g.proc.poll() is None:
                g.proc.kill()
                g.proc.wait()
        if echo.poll() is None:
            stop_process(echo)
        echo_out.close()
        if daemon:
            daemon.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    c.check("nothing left behind", not os.path.exists(tmp))
    return c.summary()


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="test_memif.py")
    p.add_argument("--echo", required=True)
    p.add_argument("--gen", required=True)
    p.add_argument("--fragnetd")
    p.add_argument("--fragnetctl")
    sys.exit(main(p, run))
