#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Soak and fault suite: the Redis fork under steady load while everything
around it fails.

    soak.py --fragnetd F --fragnetctl C [--minutes N]

One fork (appendonly yes, appendfsync always, udp-require-rules yes) on a
one-queue veth (net_af_xdp), filtered by a private fragnetd; kernel UDP
clients in the peer namespace send SETs and GETs on a bounded key space,
one request in flight per client. For N minutes:
  - every second `fragnetctl load` swaps between two rulesets that both
    accept the clients through one named counter ("client");
  - every ~20 s fragnetd is killed with SIGKILL, left dead for a moment and
    started again (the fork keeps its last rules, then reconnects);
  - once, at about a quarter of the run, the fork is killed with SIGKILL and
    started again on the same append-only file.

Checks:
  - no acknowledged write is lost: the value of every key is the last value
    whose SET got +OK, or one of the SETs sent after it that got no reply
    (UDP is at most once), read over TCP right after the fork's restart and
    after the run; every GET during the run sees such a value too;
  - the counter is exact: between two quiet points of one registration (the
    load paused until no request is in flight, no generation pending), the
    counter's total over all the generations in between lies between the
    replies received and the datagrams sent. A registration's counter
    history starts when the fork meets a (restarted) daemon, so every window
    lies inside one daemon's and one fork's lifetime;
  - memory is flat after warm-up: the fork's RSS, Redis's used_memory and
    its client count (a UDP flow is a client). The library exposes no mbuf,
    flow, neighbour or conntrack gauges through fragnetctl;
  - the share of requests served while the rules change, while fragnetd is
    down and while the fork restarts is printed (the first two are checked
    to be a majority: the fork keeps its rules without the daemon).
Prints one line per check, the figures, and "N passed, N failed".
"""
import argparse
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "redis"))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from checks import Checks  # noqa: E402
from fnr_harness import RespError, Server, Topology, free_port, redis_bin  # noqa: E402
from fragnetd import Daemon  # noqa: E402

UDP_PORT = 6395
WORKERS = 4
SLOTS = 1000            # keys per worker: the data set stops growing after one pass
GET_EVERY = 4           # one request in GET_EVERY reads a key back
TIMEOUT = 2.0           # per request; generous for a loaded 2-core machine
RULES_EVERY = 1.0
KILL_EVERY = 20.0
DAEMON_DOWN = 2.0       # seconds fragnetd stays dead
WARMUP = 20.0           # after the fork (re)starts, before memory is sampled
MEM_EVERY = 5.0
RSS_SLACK = 16 << 20    # bytes of RSS growth tolerated after warm-up
STEADY, DAEMON_DOWN_PHASE, FORK_RESTART = "rules changing", "fragnetd down", "fork restarting"


def ruleset(port, client, extra):
    """Both rulesets accept the client through the named counter."""
    return f"""table inet redis {{
	counter client {{ }}
	chain input {{
		type filter hook input priority filter; policy drop;
{extra}		ip saddr {client} udp dport {port} counter name "client" accept
	}}
}}
"""


class Load:
    """What the clients did, shared with the conductor. Workers stop at the
    gate when it is closed; `busy` counts requests in flight."""

    def __init__(self):
        self.lock = threading.Lock()
        self.gate = threading.Event()
        self.gate.set()
        self.stop = threading.Event()
        self.phase = STEADY
        self.busy = 0
        self.sent = 0           # request datagrams
        self.replies = 0        # reply datagrams
        self.by_phase = {}      # phase -> [requests, served]
        self.sets_acked = 0
        self.gets = 0
        self.bad_reads = []
        self.acked = {}         # key -> value of the last acknowledged SET
        self.maybe = {}         # key -> values SET after it without a reply

    def allowed(self, key):
        """Values the key may hold; None stands for 'absent'."""
        vals = set(self.maybe.get(key, ()))
        vals.add(self.acked.get(key))
        return vals

    def pause(self, timeout=60):
        self.gate.clear()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.busy == 0:
                    break
            time.sleep(0.02)
        time.sleep(0.3)  # let the last reply's packet and the filter settle

    def resume(self):
        self.gate.set()


class Worker(threading.Thread):
    def __init__(self, idx, load, server_ref):
        super().__init__(daemon=True)
        self.idx, self.load, self.server_ref = idx, load, server_ref
        self.error = None

    def run(self):
        try:
            self.loop()
        except Exception as e:  # noqa: BLE001 - reported by the conductor
            self.error = "%s: %s" % (type(e).__name__, e)

    def loop(self):
        load, cli, seq = self.load, None, 0
        while not load.stop.is_set():
            if not load.gate.wait(0.2):
                continue
            with load.lock:
                if not load.gate.is_set():
                    continue
                load.busy += 1
                phase = load.phase
            try:
                if cli is None:
                    cli = self.server_ref[0].udp(timeout=TIMEOUT)
                seq += 1
                key = "soak:%d:%d" % (self.idx, seq % SLOTS)
                reading = seq % GET_EVERY == 0
                value = None if reading else "%d-%d" % (self.idx, seq)
                with load.lock:
                    load.sent += 1
                    allowed = load.allowed(key) if reading else None
                try:
                    reply = cli("GET", key) if reading else cli("SET", key, value)
                    served = not isinstance(reply, RespError)
                except (TimeoutError, OSError):
                    # A late reply must never be taken for the next
                    # request's: forget this flow.
                    cli.close()
                    cli = None
                    served = False
                with load.lock:
                    counts = load.by_phase.setdefault(phase, [0, 0])
                    counts[0] += 1
                    counts[1] += served
                    if served:
                        load.replies += 1
                    if reading and served:
                        load.gets += 1
                        got = None if reply is None else reply.decode()
                        if got not in allowed:
                            load.bad_reads.append((key, got, sorted(map(str, allowed))))
                    elif not reading and served and reply == "OK":
                        load.sets_acked += 1
                        load.acked[key] = value
                        load.maybe[key] = set()
                    elif not reading:
                        load.maybe.setdefault(key, set()).add(value)
            finally:
                with load.lock:
                    load.busy -= 1
        if cli is not None:
            cli.close()


def verify_writes(srv, load):
    """Keys whose value is not one the acknowledged writes allow."""
    with load.lock:
        keys = sorted(set(load.acked) | set(load.maybe))
        allowed = {k: load.allowed(k) for k in keys}
    tcp = srv.tcp(timeout=30)
    lost = []
    try:
        for i in range(0, len(keys), 500):
            batch = keys[i:i + 500]
            for k, v in zip(batch, tcp("MGET", *batch)):
                got = None if v is None else v.decode()
                if got not in allowed[k]:
                    lost.append((k, got, sorted(map(str, allowed[k]))))
    finally:
        tcp.close()
    acked = sum(1 for k in keys if allowed[k] != {None} and None not in allowed[k])
    return lost, acked


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def redis_info(srv):
    tcp = srv.tcp(timeout=30)
    try:
        text = tcp("INFO").decode()
    finally:
        tcp.close()
    info = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return int(info["used_memory"]), int(info["connected_clients"])


class Soak:
    def __init__(self, c, topo, daemon, minutes):
        self.c, self.topo, self.daemon = c, topo, daemon
        self.duration = minutes * 60.0
        self.load = Load()
        client = topo.client_ip
        self.rules = [daemon.rules_file("a.nft", ruleset(UDP_PORT, client, "")),
                      daemon.rules_file("b.nft", ruleset(
                          UDP_PORT, client, "\t\tip saddr %s.250 counter drop\n"
                          % client.rsplit(".", 1)[0]))]
        self.rules_next = 0
        self.loads = {"ok": 0, "not applied in time": 0, "failed": []}
        self.kills = 0
        self.fork_restarts = 0
        self.windows = []       # (sent, replies, counted, generations)
        self.window_errors = []
        self.base = None
        self.mem = []           # (t, rss, used_memory, clients) after warm-up
        self.warm_at = None
        self.server_ref = [None]
        self.srv = None
        # Forks built before the anti-amplification limit have no such
        # directive (and no limit to lift).
        with open(redis_bin(), "rb") as f:
            self.trusted_directive = b"udp-trusted-prefixes" in f.read()

    # ------------------------------------------------------------ fork --
    def start_fork(self, restart_of=None):
        extra = ["--udp-require-rules", "yes", "--udp-idle-timeout", 10]
        if self.trusted_directive:
            # The clients are trusted: validated flows, no anti-amplification
            # limit (the requests and replies are small either way).
            extra += ["--udp-trusted-prefixes", self.topo.client_ip.rsplit(".", 1)[0] + ".0/24"]
        srv = Server(self.topo, "soak", restart_of.tcp_port if restart_of else free_port(),
                     UDP_PORT, aof=True, extra=extra, daemon_socket=self.daemon.socket)
        if restart_of:
            os.rmdir(srv.dir)  # it restarts on the first one's append-only file
            n = self.fork_restarts + 1
            srv.dir, srv.log = restart_of.dir, restart_of.log + ".%d" % n
            srv.args = [a if a != restart_of.log else srv.log for a in restart_of.args]
        srv.start(wait=120)
        self.srv = self.server_ref[0] = srv
        self.warm_at = time.monotonic() + WARMUP
        self.mem = []

    # ---------------------------------------------------- counter windows --
    def redis_app(self, j):
        """The running fork's entry in fragnetctl's JSON (by pid: a killed
        fork's registration may linger for a moment)."""
        for a in j["apps"]:
            if a["name"] == "redis" and a["pid"] == self.srv.pid:
                return a
        return None

    def wait_registered(self, timeout=60):
        """Until the running fork applies a generation of this daemon."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            a = self.redis_app(self.daemon.ctl_json("apps"))
            if a and a["generation"] >= 1 and a["state"] == "filtered":
                return
            time.sleep(0.05)
        raise RuntimeError("the fork (pid %d) did not register with fragnetd" % self.srv.pid)

    def counter_total(self):
        """(total of the "client" counter over the registration's
        generations, generations, dropped, daemon generation), once none
        is pending."""
        deadline = time.monotonic() + 30
        while True:
            a = self.redis_app(self.daemon.ctl_json("list", "counters"))
            if a and (a["pending_generations"] == 0 or time.monotonic() > deadline):
                total = sum(t["packets"] for t in a["totals"] if t.get("object") == "client")
                return total, 1 + a["final_generations"], a["dropped_generations"], a["generation"]
            if time.monotonic() > deadline:
                raise RuntimeError("the fork is not registered with fragnetd")
            time.sleep(0.1)

    def mark(self, begin):
        """A quiet point: close the open window (if any) and, with begin,
        open the next. The load is paused meanwhile."""
        self.load.pause()
        try:
            with self.load.lock:
                sent, replies = self.load.sent, self.load.replies
            counted, gens, dropped, gen = self.counter_total()
            if self.base is not None:
                s0, r0, c0, g0, gen0 = self.base
                w = (sent - s0, replies - r0, counted - c0, gens - g0 + 1)
                self.windows.append(w)
                if dropped or not (w[1] <= w[2] <= w[0]):
                    self.window_errors.append(
                        "window %d: sent %d, replies %d, counted %d over %d generations (%d..%d), "
                        "%d dropped" % ((len(self.windows),) + w + (gen0, gen, dropped)))
            self.base = (sent, replies, counted, gens, gen) if begin else None
        finally:
            self.load.resume()

    def set_phase(self, phase):
        with self.load.lock:
            self.load.phase = phase

    # ----------------------------------------------------------- events --
    def swap_rules(self):
        if not self.daemon.alive():
            return
        path = self.rules[self.rules_next]
        self.rules_next ^= 1
        rc, out, err = self.daemon.ctl("load", path)
        if rc == 0:
            self.loads["ok"] += 1
        elif rc == 4:  # loaded; the fork had not answered within apply_timeout_ms
            self.loads["not applied in time"] += 1
        else:
            self.loads["failed"].append("exit %d: %s" % (rc, (out + err).strip()))

    def kill_daemon(self):
        self.mark(begin=False)
        self.set_phase(DAEMON_DOWN_PHASE)
        self.daemon.kill9()
        self.kills += 1
        time.sleep(DAEMON_DOWN)
        self.daemon.start(rules=self.rules[self.rules_next])
        self.wait_registered()
        self.set_phase(STEADY)
        self.mark(begin=True)

    def restart_fork(self):
        self.mark(begin=False)
        self.set_phase(FORK_RESTART)
        old = self.srv
        old.kill9()
        self.start_fork(restart_of=old)
        self.fork_restarts += 1
        self.wait_registered()
        self.load.pause()
        try:
            lost, acked = verify_writes(self.srv, self.load)
        finally:
            self.load.resume()
        self.c.check("after the fork's kill -9 and restart: all %d acknowledged writes are there "
                     "(%d SETs acknowledged so far)" % (acked, self.load.sets_acked),
                     not lost, "%d lost, e.g. %s" % (len(lost), lost[:5]))
        self.set_phase(STEADY)
        self.mark(begin=True)

    def sample_memory(self):
        if self.warm_at is None or time.monotonic() < self.warm_at:
            return
        used, clients = redis_info(self.srv)
        self.mem.append((time.monotonic(), rss(self.srv.pid), used, clients))

    # ------------------------------------------------------------- run --
    def run(self):
        d = self.daemon
        d.start(rules=self.rules[0])
        self.rules_next = 1
        self.start_fork()
        self.wait_registered()
        workers = [Worker(i, self.load, self.server_ref) for i in range(WORKERS)]
        for w in workers:
            w.start()
        self.mark(begin=True)

        t0 = time.monotonic()
        end = t0 + self.duration
        k = max(1, round(self.duration / 4 / KILL_EVERY))
        fork_at = t0 + k * KILL_EVERY + KILL_EVERY / 2
        next_rules, next_kill, next_mem = t0 + RULES_EVERY, t0 + KILL_EVERY, t0
        while True:
            now = time.monotonic()
            if now >= end:
                break
            if self.fork_restarts == 0 and now >= fork_at:
                self.restart_fork()
            elif now >= next_kill:
                self.kill_daemon()
                next_kill = time.monotonic() + KILL_EVERY
            elif now >= next_rules:
                self.swap_rules()
                next_rules = max(next_rules + RULES_EVERY, time.monotonic())
            elif now >= next_mem:
                self.sample_memory()
                next_mem = now + MEM_EVERY
            else:
                time.sleep(max(0.0, min(next_rules, next_kill, next_mem, end) - now))
        self.mark(begin=False)
        self.sample_memory()
        self.load.stop.set()
        for w in workers:
            w.join(TIMEOUT * 3)
        return workers

    def report(self, workers):
        c, load = self.c, self.load
        for w in workers:
            c.check("client %d ran to the end" % w.idx, w.error is None and not w.is_alive(), w.error)
        c.check("the fork is alive", self.srv.alive(), self.srv.tail())
        lost, acked = verify_writes(self.srv, load)
        c.check("after the run: all %d acknowledged writes are there (%d SETs acknowledged in all)"
                % (acked, load.sets_acked), not lost and acked > 0, "%d lost, e.g. %s" % (len(lost), lost[:5]))
        c.check("every GET during the run saw an acknowledged (or later unacknowledged) value "
                "(%d GETs)" % load.gets, not load.bad_reads and load.gets > 0,
                "%d bad, e.g. %s" % (len(load.bad_reads), load.bad_reads[:5]))
        c.check("fragnetd was killed and restarted %d times" % self.kills,
                # every KILL_EVERY s from the previous restart, which takes a few s
                self.kills >= max(1, int(self.duration // (2 * KILL_EVERY))))
        c.check("the fork was killed and restarted once", self.fork_restarts == 1)
        c.check("%d rule loads applied (%d loaded but not applied in time), none refused"
                % (self.loads["ok"], self.loads["not applied in time"]),
                self.loads["ok"] > 0 and not self.loads["failed"], self.loads["failed"][:3])
        gens = sum(w[3] for w in self.windows)
        c.check("the \"client\" counter lies between the replies received and the datagrams sent "
                "in all %d windows (%d generations)" % (len(self.windows), gens),
                self.windows and not self.window_errors, "; ".join(self.window_errors[:5]))

        shares = {}
        for phase in (STEADY, DAEMON_DOWN_PHASE, FORK_RESTART):
            req, ok = load.by_phase.get(phase, [0, 0])
            shares[phase] = (req, ok)
        for phase in (STEADY, DAEMON_DOWN_PHASE):
            req, ok = shares[phase]
            c.check("a majority of requests served while %s (%d of %d)" % (phase, ok, req),
                    req > 0 and ok * 2 > req)

        m = self.mem
        if len(m) >= 2:
            (_, rss0, used0, cl0), (_, rss1, used1, cl1) = m[0], m[-1]
            c.check("the fork's RSS is flat after warm-up (%.1f -> %.1f MiB)" % (rss0 / 2**20, rss1 / 2**20),
                    rss1 <= rss0 + max(RSS_SLACK, rss0 // 10))
            c.check("Redis used_memory is flat after warm-up (%.1f -> %.1f MiB)"
                    % (used0 / 2**20, used1 / 2**20), used1 <= used0 + max(4 << 20, used0 // 10))
            c.check("Redis clients (UDP flows) stay bounded (%d -> %d)" % (cl0, cl1),
                    cl1 <= cl0 + 4 * WORKERS)
        else:
            c.check("memory sampled after warm-up", False, "%d samples" % len(m))

        print("figures:")
        print("  duration            %.1f min" % (self.duration / 60))
        print("  requests            %d (%d SET acknowledged, %d GET)" % (
            sum(r for r, _ in load.by_phase.values()), load.sets_acked, load.gets))
        for phase, (req, ok) in shares.items():
            print("  served %-16s %d of %d (%.1f%%)" % (phase, ok, req, 100.0 * ok / req if req else 0))
        print("  datagrams           %d sent, %d replies" % (load.sent, load.replies))
        print("  acked writes        %d keys checked after the run" % acked)
        print("  counter windows     %d, %d generations, %d packets counted, %d sent, %d replies; "
              "counted = sent in %d windows" % (
                  len(self.windows), gens, sum(w[2] for w in self.windows), sum(w[0] for w in self.windows),
                  sum(w[1] for w in self.windows), sum(1 for w in self.windows if w[0] == w[2])))
        print("  rule loads          %d applied, %d not applied in time" % (
            self.loads["ok"], self.loads["not applied in time"]))
        print("  restarts            fragnetd %d (kill -9), fork %d (kill -9)" % (self.kills, self.fork_restarts))
        if m:
            print("  fork RSS            first %.1f MiB, last %.1f MiB, max %.1f MiB (%d samples)" % (
                m[0][1] / 2**20, m[-1][1] / 2**20, max(x[1] for x in m) / 2**20, len(m)))
            print("  Redis used_memory   first %.1f MiB, last %.1f MiB" % (m[0][2] / 2**20, m[-1][2] / 2**20))
            print("  Redis clients       first %d, last %d, max %d" % (m[0][3], m[-1][3], max(x[3] for x in m)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fragnetd", required=True)
    ap.add_argument("--fragnetctl", required=True)
    ap.add_argument("--minutes", type=float, default=2.0)
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("soak.py: needs root (network namespaces, DPDK)")
        return 1
    redis_bin()  # fails clearly when the fork is not built
    c = Checks()
    daemon = Daemon(a.fragnetd, a.fragnetctl, tag="fns%dd" % os.getpid())
    soak = None
    try:
        with Topology() as topo:
            soak = Soak(c, topo, daemon, a.minutes)
            try:
                workers = soak.run()
                soak.report(workers)
            finally:
                soak.load.stop.set()
                if soak.srv:
                    soak.srv.cleanup()
    except Exception as e:  # noqa: BLE001 - report, clean up, fail
        c.check("no unexpected error", False, "%s: %s\n%s\n%s" % (
            type(e).__name__, e, soak.srv.tail() if soak and soak.srv else "",
            daemon.log_text()[-3000:] if os.path.exists(daemon.log_path) else ""))
    finally:
        daemon.cleanup()
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
