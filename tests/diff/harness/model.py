"""Walks one step through the hooks the way the kernel does (see kpath.py),
asking `evaluate` for each hook's verdict. With the interpreter as
`evaluate`, the interpreter sees exactly the packets the kernel's chains
saw, and carries its own rewrites (payload set, meta mark set) from hook to
hook as the kernel carries its own."""
from . import kpath as K
from . import pkt as P
from .kpath import Topology as T


class PathModel:
    def __init__(self, conntrack, steer=None):
        # Conntrack active in the namespace (any ct expression) means
        # defragmentation before PREROUTING and at OUTPUT (priority -400).
        self.conntrack = conntrack
        # Kernel enforcement (issue E): steer(l2, l3) is told of each frame
        # the steering program would hand to the application, before its
        # prerouting hook is asked for.
        self.steer = steer
        self.defrag_pre = K.Reassembler()
        self.defrag_local = K.Reassembler()
        self.defrag_out = K.Reassembler()

    def run(self, step, evaluate):
        """Hook results of one step, in order."""
        hooks = []

        def hook(name, l2, l3, mark, pkttype, inbound, ct=0):
            if inbound:
                r = evaluate(name, step.cpu, pkttype, mark, ct, T.dut_ifindex, T.dut_if, 0, None,
                             l2, l3)
            else:
                r = evaluate(name, step.cpu, pkttype, mark, ct, 0, None, T.dut_ifindex, T.dut_if,
                             l2, l3)
            hooks.append(r)
            return r if r.verdict == "accept" else None

        if step.path == "in":
            frame = step.data
            pkttype = K.pkttype_of(frame)
            if pkttype == K.PKT_OTHERHOST or frame[12:14] != b"\x08\x00":
                return hooks
            l2, l3 = frame[:14], K.ip_rcv_core(frame[14:])
            if l3 is None:
                return hooks
            if self.steer and _steered(l3):
                self.steer(l2, l3)
            if self.conntrack and P.ip_is_fragment(l3):
                done = self.defrag_pre.add(l3)
                if done is None:
                    return hooks
                l3 = done[0]
            r = hook("prerouting", l2, l3, 0, pkttype, True)
            if r is None or not K.options_ok(r.l3_out) or not K.routes_to_local(r.l3_out):
                return hooks
            l3, mark, ct = r.l3_out, r.mark_out, r.ct_out
            if P.ip_is_fragment(l3):
                done = self.defrag_local.add(l3, mark)
                if done is None:
                    return hooks
                (l3, mark), ct = done, 0
            hook("input", l2, l3, mark, pkttype, True, ct)
        else:
            l3 = K.raw_send_fixup(step.data)
            if l3 is None:
                return hooks
            if self.conntrack and P.ip_is_fragment(l3):
                done = self.defrag_out.add(l3)
                if done is None:
                    return hooks
                l3 = done[0]
            # Locally generated packets carry skb->pkt_type 0 (PACKET_HOST).
            r = hook("output", None, l3, 0, K.PKT_HOST, False)
            if r is not None:
                hook("postrouting", None, r.l3_out, r.mark_out, K.PKT_HOST, False, r.ct_out)
        return hooks


def _steered(l3):
    """What the steering program hands to the application's rules program:
    a datagram for this host (whose options pass, if prerouting leaves it
    alone: the kernel part stops before any rule that could rewrite it),
    not a fragment (those, and with conntrack what is reassembled from
    them, go to the application unjudged)."""
    if P.ip_is_fragment(l3):
        return False
    try:
        return K.options_ok(l3) and K.routes_to_local(l3)
    except ValueError:
        return False    # options the model leaves to the kernel's own path
