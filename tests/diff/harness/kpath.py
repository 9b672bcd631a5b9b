"""What the kernel does to a packet before, between and after the nftables
hooks, so that the interpreter is handed exactly what the kernel's chains
saw. Every prediction made here is checked against the kernel's own trace
(the harness chains dump the headers at each hook), so a wrong model shows
up as a MODEL failure rather than as a false interpreter divergence.

Input path (ip_rcv -> PREROUTING -> ip_rcv_finish/routing -> ip_local_deliver
-> INPUT), output path (raw IP_HDRINCL send -> OUTPUT -> POSTROUTING).
"""
import ipaddress
import struct

from . import pkt as P

# Packet types (skb->pkt_type), as meta pkttype reads them.
PKT_HOST, PKT_BROADCAST, PKT_MULTICAST, PKT_OTHERHOST = 0, 1, 2, 3

MTU = 1500


class Topology:
    """Addresses of the device under test (DUT) and its peer."""
    dut_ip = "10.77.0.1"
    dut_prefix = 24
    dut_bcast = "10.77.0.255"
    peer_ip = "10.77.0.2"
    dut_mac = bytes.fromhex("02fd00000001")
    peer_mac = bytes.fromhex("02fd00000002")
    # Interface names and indexes are pinned so that rules naming them
    # (meta iif "fnd0") resolve alike in every namespace.
    dut_if = "fnd0"
    dut_ifindex = 7
    peer_if = "fnd1"
    peer_ifindex = 9


def pkttype_of(frame: bytes, topo=Topology) -> int:
    """eth_type_trans(): packet type from the destination MAC."""
    dst = frame[:6]
    if dst == b"\xff" * 6:
        return PKT_BROADCAST
    if dst[0] & 1:
        return PKT_MULTICAST
    if dst == topo.dut_mac:
        return PKT_HOST
    return PKT_OTHERHOST


def ip_rcv_core(l3: bytes):
    """ip_rcv_core(): drop what the kernel drops before PREROUTING, trim link
    padding to the IP total length. Returns the datagram or None."""
    if len(l3) < 20:
        return None
    ihl = P.ip_ihl(l3)
    if ihl < 20 or (l3[0] >> 4) != 4 or len(l3) < ihl:
        return None
    if P.csum(l3[:ihl]) != 0:
        return None
    tot = P.ip_tot_len(l3)
    if len(l3) < tot or tot < ihl:
        return None
    return l3[:tot]


# Options whose processing after PREROUTING rewrites or drops the packet
# (record route, timestamp, source routes): the model refuses them.
_REWRITING_OPTIONS = {7, 68, 131, 137}


def options_ok(p: bytes) -> bool:
    """ip_rcv_options(): True if the options pass unchanged."""
    opts, i = p[20:P.ip_ihl(p)], 0
    while i < len(opts):
        t = opts[i]
        if t == 0:
            break
        if t == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2 or i + opts[i + 1] > len(opts):
            return False
        if t in _REWRITING_OPTIONS:
            raise ValueError("the model does not cover IPv4 option %d" % t)
        i += opts[i + 1]
    return True


def _addr(s):
    return ipaddress.IPv4Address(s)


def routes_to_local(p: bytes, topo=Topology) -> bool:
    """ip_route_input(): True if the datagram is delivered locally (INPUT),
    False if it is dropped as a martian or not for us (forwarding is off)."""
    s, d = _addr(P.ip_src(p)), _addr(P.ip_dst(p))
    lbcast = _addr("255.255.255.255")
    if s.is_multicast or s == lbcast:
        return False
    if d == lbcast or (int(s) == 0 and int(d) == 0):
        return True
    if int(s) >> 24 == 0 or int(d) >> 24 == 0 or s.is_loopback or d.is_loopback:
        return False
    if d.is_multicast:
        return str(d) == "224.0.0.1"      # all-hosts, joined by every interface
    if str(s) in (topo.dut_ip, topo.dut_bcast):
        return False                       # our own address as source: martian
    return str(d) in (topo.dut_ip, topo.dut_bcast)


class Reassembler:
    """ip_defrag(): one reassembly context (the kernel keeps one per user:
    conntrack before PREROUTING, local delivery before INPUT, conntrack at
    OUTPUT). add() returns the reassembled datagram when it completes, with
    the mark of its first fragment (the head skb carries it up)."""

    def __init__(self):
        self.queues = {}

    def add(self, p: bytes, mark=0):
        key = (p[4:6], p[12:16], p[16:20], p[9])
        q = self.queues.setdefault(key, {"frags": [], "len": 0, "last": False})
        hl = P.ip_ihl(p)
        off = P.ip_frag_offset(p)
        end = off + len(p) - hl
        if not P.ip_frag_field(p) & P.IP_MF:
            if end < q["len"] or (q["last"] and end != q["len"]):
                del self.queues[key]
                return None
            q["last"], q["len"] = True, end
        else:
            end &= ~7
            if end > q["len"]:
                if q["last"]:
                    del self.queues[key]
                    return None
                q["len"] = end
        if end == off:
            del self.queues[key]
            return None
        for (o, e, *_) in q["frags"]:
            if o == off and e == end:
                return None                 # exact duplicate: ignored
            if off < e and o < end:
                del self.queues[key]        # overlap: the whole queue dies
                return None
        q["frags"].append((off, end, p, mark))
        if not q["last"]:
            return None
        q["frags"].sort(key=lambda f: f[0])
        pos = 0
        for (o, e, *_) in q["frags"]:
            if o != pos:
                return None
            pos = e
        if pos != q["len"]:
            return None
        del self.queues[key]
        head = q["frags"][0][2]
        hdr = bytearray(head[:P.ip_ihl(head)])
        struct.pack_into("!H", hdr, 6, 0)
        data = b"".join(f[2][P.ip_ihl(f[2]):][:f[1] - f[0]] for f in q["frags"])
        return P.fix_ipv4_header(bytes(hdr) + data), q["frags"][0][3]


def raw_send_fixup(p: bytes):
    """raw_send_hdrinc(): what an IP_HDRINCL send puts on the OUTPUT hook
    (total length and checksum rewritten), or None when the kernel refuses
    the send (longer than the MTU)."""
    if len(p) > MTU:
        return None
    if P.ip_ihl(p) >= 20 and p[4:6] == b"\0\0":
        raise ValueError("output packets need a non-zero IP ID (the kernel "
                         "would pick a random one)")
    return P.fix_ipv4_header(p) if P.ip_ihl(p) >= 20 else p
