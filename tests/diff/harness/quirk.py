"""A kernel bug the differential test knows about, and how it is excused.

nft_payload_fast_eval() (net/netfilter/nf_tables_core.c), which runs every
payload load of 1, 2 or 4 bytes at an offset aligned to its length, does not
check the fragment offset for the transport header: on a non-first fragment
it reads the fragment's own data as if it were ports (the slow path,
nft_payload_eval(), has the check; a fix adding `|| pkt->fragoff` to the fast
path has been posted upstream). Kernel 6.18 has the bug.

The interpreter keeps the correct semantics (no transport match on a
non-first fragment): fragment data must not pose as ports. So the harness
probes the running kernel once (probe()), and where it has the bug the path
model asks the driver, next to the interpreter's own answer, what such a
kernel decides and counts for each non-first fragment (FastPathQuirk; the
driver rewrites exactly the loads the kernel sends down its fast path, see
fast_path_quirk.c). The comparison then holds the kernel to that prediction
and reports the difference to the interpreter as this known bug, without
failing; every other mismatch still fails. On a fixed kernel the probe says
so and the ordinary comparison applies.
"""
from . import kernel as KN
from . import pkt as P
from . import schedule as S
from .netns import Testbed

REASON = "known kernel bug (nft_payload_fast_eval, no fragoff check)"

_PROBE_TABLE = "fndprobe"
# Two counters at prerouting, in this order: every UDP packet (the control:
# the fragment got there), and udp dport 53, a 2-byte transport load at
# offset 2 that the kernel sends down its fast path.
_PROBE_RULESET = """table ip %s {
  chain pre {
    type filter hook prerouting priority 0; policy accept;
    meta l4proto udp counter
    udp dport 53 counter
  }
}
""" % _PROBE_TABLE
# A datagram to port 9 whose payload starts with 00 35 00 35; its second
# fragment (offset 8) therefore begins with what looks like ports 53 -> 53.
_PROBE_STEP = "in udp dport=9 id=4242 frag=8 payload=003500350a0b0c0d0e0f1011"


def probe():
    """True if the running kernel's payload fast path reads transport fields
    out of non-first fragments, False if it does not. Raises if the probe
    itself did not work (the fragment never reached prerouting)."""
    frags = S.parse([_PROBE_STEP])
    with Testbed("q") as bed:
        k = KN.Kernel(bed)
        try:
            k.load(_PROBE_RULESET)
            k.send(frags[1])           # the non-first fragment alone
            counters = k.counters(k.listing("ip", _PROBE_TABLE))
        finally:
            k.close()
    rules = sorted(((h, v[0]) for (chain, h), v in counters.items() if chain == "pre"))
    if len(rules) != 2 or rules[0][1] != 1:
        raise RuntimeError("fast path probe: the fragment did not reach prerouting "
                           "(counters %r)" % counters)
    return rules[1][1] == 1


def _same(a, b):
    return (a.verdict, a.chain, a.handle, a.mark_out, a.l3_out) == \
           (b.verdict, b.chain, b.handle, b.mark_out, b.l3_out)


class FastPathQuirk:
    """Evaluates a hook for the path model: the interpreter's own answer,
    and, for a non-first fragment, what a kernel with the bug does."""

    def __init__(self, driver):
        self.drv = driver

    def evaluate(self, hook, cpu, pkttype, mark, ct, iif, iifname, oif, oifname, l2, l3):
        args = (hook, cpu, pkttype, mark, ct, iif, iifname, oif, oifname, l2, l3)
        if not P.ip_frag_offset(l3):
            return self.drv.eval(*args)
        kernel, honest, extra = self.drv.evalk(*args)
        if _same(honest, kernel) and not extra:
            return honest
        # The path goes on as the kernel's does, and so does the
        # interpreter's state (its counters included): the comparison holds
        # the kernel to this prediction and reports the interpreter's own
        # answer as the known bug.
        kernel.honest = honest
        kernel.excused = extra
        return kernel
