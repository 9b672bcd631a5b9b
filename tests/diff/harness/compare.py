"""Compares one step as the kernel ran it (trace traversals) with the same
step as the interpreter ran it (hook results), and the counters after it."""
from . import kernel as KN
from . import pkt as P
from . import quirk as Q
from .interp import HookResult

# reject expressions as nft -j lists them -> the interpreter's verdicts
REJECT_VERDICTS = {
    "port-unreachable": "reject-port-unreach",
    "admin-prohibited": "reject-admin-prohib",
    "net-unreachable": "reject-net-unreach",
    "host-unreachable": "reject-host-unreach",
    "prot-unreachable": "reject-prot-unreach",
    "no-route": "reject-net-unreach",      # icmpx no-route is ICMP net unreachable
    "net-prohibited": "reject-net-prohib",
    "host-prohibited": "reject-host-prohib",
}

# The ICMP destination-unreachable code (type 3) each reject verdict sends.
REJECT_CODES = {
    "reject-net-unreach": 0, "reject-host-unreach": 1, "reject-prot-unreach": 2,
    "reject-port-unreach": 3, "reject-net-prohib": 9, "reject-host-prohib": 10,
    "reject-admin-prohib": 13,
}


class RulesetInfo:
    """What the comparison needs to know about the loaded ruleset."""

    def __init__(self, listing):
        self.rejects = {}
        self.base_chains = {}
        self.conntrack = False
        for item in listing["nftables"]:
            if "chain" in item and "hook" in item["chain"]:
                c = item["chain"]
                self.base_chains[c["name"]] = (c["hook"], c["prio"])
            if "rule" in item:
                r = item["rule"]
                for ex in r["expr"]:
                    if "reject" in ex:
                        self.rejects[(r["chain"], r["handle"])] = _reject_verdict(ex["reject"])
                if _mentions(r["expr"], "ct") or _mentions(r["expr"], "ct count"):
                    self.conntrack = True

    def check_priorities(self):
        for name, (hook, prio) in self.base_chains.items():
            if not -KN.HARNESS_PRIO < prio < KN.HARNESS_PRIO:
                raise ValueError("chain %s: priority %d is outside (-%d, %d), where the "
                                 "harness chains cannot observe it" %
                                 (name, prio, KN.HARNESS_PRIO, KN.HARNESS_PRIO))

    def kernel_verdict(self, tr):
        v, chain, handle = KN.decide(tr)
        if v == "drop" and (chain, handle) in self.rejects:
            v = self.rejects[(chain, handle)]
        return v, chain, handle


def _reject_verdict(arg):
    if not arg:
        return REJECT_VERDICTS["port-unreachable"]
    if arg.get("type") == "tcp reset":
        return "reject-tcp-reset"
    return REJECT_VERDICTS.get(arg.get("expr", "port-unreachable"), "reject-" + str(arg))


def _mentions(obj, key):
    if isinstance(obj, dict):
        return key in obj or any(_mentions(v, key) for v in obj.values())
    if isinstance(obj, list):
        return any(_mentions(v, key) for v in obj)
    return False


def _snap_diff(what, seen, l3, mark):
    """Differences between a trace snapshot and the packet we hold."""
    out = []
    if seen.nh is not None and seen.nh != l3[:len(seen.nh)]:
        out.append("%s IP header: kernel %s, interpreter side %s" %
                   (what, seen.nh.hex(), l3[:len(seen.nh)].hex()))
    if seen.th is not None and not P.ip_frag_offset(l3):
        th = l3[P.ip_ihl(l3):P.ip_ihl(l3) + len(seen.th)]
        if seen.th != th:
            out.append("%s transport header: kernel %s, interpreter side %s" %
                       (what, seen.th.hex(), th.hex()))
    if seen.mark is not None and seen.mark != mark:
        out.append("%s mark: kernel %d, interpreter side %d" % (what, seen.mark, mark))
    return out


def _excuse(hook, h):
    """The line reporting a packet on which the kernel did what its known
    bug predicts (harness/quirk.py) and the interpreter did not."""
    def dec(r):
        return "%s chain=%s handle=%s" % (r.verdict, r.chain, r.handle if r.chain else None)
    what = []
    if (h.verdict, h.chain, h.handle) != (h.honest.verdict, h.honest.chain, h.honest.handle):
        what.append("kernel %s, interpreter %s" % (dec(h), dec(h.honest)))
    for key, (p, b) in sorted(h.excused.items(), key=str):
        what.append("counter %s handle %s: kernel %+d packets %+d bytes" % (key + (p, b)))
    if h.l3_out != h.honest.l3_out or h.mark_out != h.honest.mark_out:
        what.append("packet out differs")
    return "%s: %s: %s" % (hook, Q.REASON, "; ".join(what))


def _reply_problems(hook, verdict, replies, require_reply):
    """A reject verdict against the ICMP errors the kernel sent in the step:
    the reply's type and code are what the verdict says. Without a reply
    (the kernel sends none for broadcasts or fragments) only a corpus that
    requires one fails."""
    want = REJECT_CODES.get(verdict)
    if want is None:
        return []
    if not replies:
        return [("diverge", "%s: %s, but the kernel sent no ICMP error" % (hook, verdict))] \
            if require_reply else []
    if replies[-1] != (3, want):
        return [("diverge", "%s: the kernel answered ICMP type %d code %d, the interpreter's "
                 "%s is type 3 code %d" % ((hook,) + replies[-1] + (verdict, want)))]
    return []


def compare_step(info, ktrav, ihooks, replies=(), require_reply=False):
    """A list of problems (empty when the step agrees). Each is (kind, text):
    kind 'model' when what the harness fed the first hook differs from what
    the kernel saw (a harness bug), 'diverge' otherwise, and 'excused' for a
    hook where the kernel did what its known bug predicts (h.honest set,
    harness/quirk.py) and so differs from the interpreter without failing.
    replies: the (type, code) of the ICMP errors the kernel sent in the step
    (kernel.icmp_errors()); require_reply: every reject must have one."""
    problems = []
    kh, ih = [t.hook for t in ktrav], [h.hook for h in ihooks]
    if kh != ih:
        problems.append(("diverge", "hooks run: kernel %s, interpreter %s" % (kh, ih)))
    for i, (t, h) in enumerate(zip(ktrav, ihooks)):
        if t.hook != h.hook:
            break
        kind = "model" if i == 0 else "diverge"
        if t.before is not None:
            problems += [(kind, "%s: %s" % (t.hook, d))
                         for d in _snap_diff("packet in", t.before, h.l3_in, h.mark_in)]
            if t.before.iif is not None and t.before.iif != h.iif:
                problems.append(("model", "%s: iif kernel %d, fed %d" % (t.hook, t.before.iif, h.iif)))
            if t.before.oif is not None and t.before.oif != h.oif:
                problems.append(("model", "%s: oif kernel %d, fed %d" % (t.hook, t.before.oif, h.oif)))
        k = info.kernel_verdict(t)
        i_dec = (h.verdict, h.chain, h.handle if h.chain else None)
        if k != i_dec:
            what = "the prediction of its known bug" if h.honest else "interpreter"
            problems.append(("diverge", "%s: kernel %s chain=%s handle=%s, %s %s chain=%s "
                             "handle=%s" % ((t.hook,) + k + (what,) + i_dec)))
            continue
        problems += _reply_problems(t.hook, h.verdict, replies, require_reply)
        snap = []
        if t.after is not None and h.verdict == "accept":
            snap = [("diverge", "%s: %s" % (t.hook, d))
                    for d in _snap_diff("packet out", t.after, h.l3_out, h.mark_out)]
        problems += snap
        if h.honest is not None and not snap:
            problems.append(("excused", _excuse(t.hook, h)))
    return problems


def compare_counters(kc, ic):
    problems = []
    for key in sorted(set(kc) | set(ic), key=str):
        if key[0] == "quota":
            continue                 # quota objects: kernel-only (no interpreter API)
        kv, iv = kc.get(key, (0, 0)), ic.get(key, (0, 0))
        if kv != iv:
            problems.append(("diverge", "counter %s handle %s: kernel %d packets %d bytes, "
                             "interpreter %d packets %d bytes" % (key + kv + iv)))
    return problems


class KernelOracle:
    """Stands in for the interpreter when none is built: answers each hook
    with the kernel's own verdict, so that the path model alone is checked
    against the kernel (packets and hooks as the kernel saw them)."""

    def __init__(self, info, ktrav):
        self.info = info
        self.pending = list(ktrav)

    def __call__(self, hook, cpu, pkttype, mark, ct, iif, iifname, oif, oifname, l2, l3):
        r = HookResult()
        r.hook, r.l3_in, r.mark_in, r.iif, r.oif, r.l3_out = hook, l3, mark, iif, oif, l3
        r.mark_out, r.ct_out = mark, ct
        if self.pending and self.pending[0].hook == hook:
            t = self.pending.pop(0)
            r.verdict, r.chain, r.handle = self.info.kernel_verdict(t)
            r.handle = r.handle or 0
            if t.after is not None:
                # Replay the kernel's own rewrites of the headers it showed.
                out = bytearray(l3)
                if t.after.nh:
                    out[:len(t.after.nh)] = t.after.nh
                if t.after.th and not P.ip_frag_offset(l3):
                    hl = P.ip_ihl(l3)
                    out[hl:hl + len(t.after.th)] = t.after.th
                r.l3_out = bytes(out)
                if t.after.mark is not None:
                    r.mark_out = t.after.mark
        else:
            r.verdict, r.chain, r.handle = "missing-in-kernel", None, 0
        return r
