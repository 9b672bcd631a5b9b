"""The reference side: the ruleset loaded into kernel nftables in the DUT
namespace, each step's packet sent through it, and the kernel's verdicts
read from nft trace and its counters from the ruleset listing.

Harness chains (table ip fndharness) sit at priority -350 and +350 on all
four hooks around the rulesets under test (corpus chains must stay strictly
between): the first sets nftrace and reports the packet as the hook starts,
the last reports it as the hook ends. At output, the first chain also drops
every packet the kernel generates by itself (ICMP errors, TCP resets,
echo replies): only packets sent by the harness, from sockets opened under
fsuid FSUID, reach the chains under test, exactly as on the interpreter side.
ICMP destination-unreachable errors among them are traced as they are
dropped: that is how a reject's reply is captured (icmp_errors()); the
DUT's ICMP rate limit is off (netns.py) so that every reject answers.
"""
import errno
import os
import select
import socket
import time

from . import pkt as P
from . import trace
from .kpath import Topology
from .netns import entered, set_fsuid
from .nftlib import Nft

FSUID = 4242
HOOKS = ("prerouting", "input", "forward", "output", "postrouting")
HARNESS_TABLE = "fndharness"
HARNESS_PRIO = 350


def harness_ruleset():
    chains = []
    for hook in ("prerouting", "input", "output", "postrouting"):
        first = "meta nftrace set 1"
        if hook == "output":
            first = ("meta skuid %d meta nftrace set 1 accept\n"
                     "    icmp type destination-unreachable meta nftrace set 1 drop\n"
                     "    drop" % FSUID)
        chains.append("  chain %s_first {\n    type filter hook %s priority -%d; policy accept;\n"
                      "    %s\n  }" % (hook, hook, HARNESS_PRIO, first))
        chains.append("  chain %s_last {\n    type filter hook %s priority %d; policy accept;\n"
                      "    meta nftrace set 1\n  }" % (hook, hook, HARNESS_PRIO))
    return "table ip %s {\n%s\n}\n" % (HARNESS_TABLE, "\n".join(chains))


class Seen:
    """The packet as one harness chain saw it."""
    def __init__(self, ev):
        self.nh, self.th, self.mark = ev.nh, ev.th, ev.mark
        self.iif, self.oif = ev.iif, ev.oif


class Traversal:
    """One packet through one hook: what it looked like going in, the events
    of the table under test, and (if it survived) what it looked like after."""
    def __init__(self, hook):
        self.hook = hook
        self.before = None
        self.after = None
        self.events = []


def _is_icmp_error(ev):
    """The trace of a kernel-made ICMP error dropped at output_first."""
    return (ev.table == HARNESS_TABLE and ev.chain == "output_first" and
            ev.type == trace.T_RULE and ev.verdict == trace.V_DROP)


def icmp_errors(events):
    """(type, code) of every ICMP destination-unreachable error the kernel
    sent during a step (reject replies, closed ports), in order."""
    return [(ev.th[0], ev.th[1]) for ev in events
            if _is_icmp_error(ev) and ev.th is not None and len(ev.th) >= 2]


def split_traversals(events, table):
    """Group a step's trace events into hook traversals, in order."""
    out, cur, prev = [], None, None
    for ev in events:
        if _is_icmp_error(ev):
            continue
        if ev.table == HARNESS_TABLE:
            hook, _, edge = ev.chain.rpartition("_")
            if edge == "first":
                if cur is None or prev is None or prev.chain != ev.chain or prev.id != ev.id:
                    cur = Traversal(hook)
                    out.append(cur)
                if ev.nh is not None:
                    cur.before = Seen(ev)
            elif cur is not None and ev.nh is not None:
                cur.after = Seen(ev)
        elif ev.table == table and cur is not None:
            cur.events.append(ev)
        prev = ev
    return out


def decide(tr):
    """The hook's verdict and deciding rule from the events of the table
    under test: a drop ends the hook; otherwise the last base chain's accept
    (rule or policy) decided. Returns (verdict, chain, handle)."""
    last = ("accept", None, None)
    for ev in tr.events:
        if ev.type == trace.T_POLICY:
            v = "accept" if ev.policy == trace.V_ACCEPT else "drop"
            last = (v, ev.chain, 0)
        elif ev.type == trace.T_RULE and ev.verdict in (trace.V_ACCEPT, trace.V_DROP):
            last = ("accept" if ev.verdict == trace.V_ACCEPT else "drop", ev.chain, ev.handle)
        else:
            continue
        if last[0] == "drop":
            return last
    return last


class Kernel:
    def __init__(self, bed):
        self.bed = bed
        with entered(bed.peer):
            self.peer = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
            self.peer.bind((Topology.peer_if, 0))
        with entered(bed.dut):
            self.nft = Nft()
            self.trace = trace.Listener()
            set_fsuid(FSUID)
            try:
                self.raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
            finally:
                set_fsuid(0)
        self.cpu = None

    def close(self):
        for s in (self.peer, self.raw):
            s.close()
        self.trace.close()
        self.nft.close()

    def load(self, text):
        with entered(self.bed.dut):
            self.nft.run(text)
            self.nft.run(harness_ruleset())

    def listing(self, family, table):
        with entered(self.bed.dut):
            return self.nft.run("list table %s %s" % (family, table), as_json=True)

    def settle(self, family, table, step):
        """Wait until the set holds at most step.elements elements."""
        deadline = time.monotonic() + step.seconds
        while True:
            with entered(self.bed.dut):
                out = self.nft.run("list set %s %s %s" % (family, table, step.set_name),
                                   as_json=True)
            held = sum(len(item["set"].get("elem", [])) for item in out["nftables"]
                       if "set" in item)
            if held <= step.elements:
                return
            if time.monotonic() > deadline:
                raise RuntimeError("%s: the kernel's set still holds %d elements after %gs"
                                   % (step, held, step.seconds))
            time.sleep(0.05)

    def _pin(self, cpu):
        if cpu != self.cpu:
            os.sched_setaffinity(0, {cpu})
            self.cpu = cpu

    def _fence(self):
        """Wait until the DUT has processed everything injected so far: the
        veth delivers in order on this CPU's backlog, so once the DUT has
        answered an ARP request sent after the frame, the frame is done."""
        self.peer.send(P.arp_request(Topology.peer_mac, Topology.peer_ip, Topology.dut_ip))
        deadline = time.monotonic() + 3
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.peer], [], [], left)[0]:
                raise RuntimeError("the DUT did not answer the ARP fence")
            frame, meta = self.peer.recvfrom(65535)
            if meta[2] != socket.PACKET_OUTGOING and P.is_arp_reply_from(frame, Topology.dut_ip):
                return

    def send(self, step):
        """Run one step; returns its trace events."""
        self._pin(step.cpu)
        stray = self.trace.drain()
        if stray:
            raise RuntimeError("trace events outside any step: %r" % stray[:3])
        if step.path == "in":
            self.peer.send(step.data)
            self._fence()
        else:
            try:
                self.raw.sendto(step.data, (P.ip_dst(step.data), 0))
            except OSError as e:
                # EPERM: dropped at OUTPUT; EMSGSIZE: over the MTU, never sent.
                if e.errno not in (errno.EPERM, errno.EMSGSIZE):
                    raise
        return self.trace.drain()

    def counters(self, listing):
        """{(chain, handle): (packets, bytes)} of every rule with an
        anonymous counter (its first one, as fn_nft_counters() reports a
        rule), plus named objects under ('counter'|'quota', name)."""
        out = {}
        for item in listing["nftables"]:
            if "rule" in item:
                r = item["rule"]
                for ex in r["expr"]:
                    c = ex.get("counter")
                    # (a counter object chosen by a map lists as {"map": ...})
                    if isinstance(c, dict) and "packets" in c:
                        out[(r["chain"], r["handle"])] = (c["packets"], c["bytes"])
                        break
            elif "counter" in item:
                c = item["counter"]
                out[("counter", c["name"])] = (c["packets"], c["bytes"])
            elif "quota" in item:
                q = item["quota"]
                out[("quota", q["name"])] = (q.get("used", 0), q["bytes"])
        return out
