"""Packet schedules: the `#>` lines of a corpus file, and the standard
battery of packets every ruleset is run against.

A schedule is a list of steps, run in order on both sides:

  in  KIND key=value ...   a frame injected from the peer (input hooks)
  out KIND key=value ...   an IP packet sent from inside the namespace
                           with IP_HDRINCL (output hooks)
  sleep SECONDS            both sides wait (limit refill)
  settle SET N [SECONDS]   wait until the kernel's set SET holds at most N
                           elements (default at most 10 s, else the step
                           fails): its garbage collector runs on a
                           deferrable timer, which an idle machine may hold
                           back well past its 1 s interval
  battery [in|out] [notcp] the standard battery (below); notcp leaves out
                           its TCP packets (for ct rulesets: TCP tracking is
                           tested on its own)

KIND is udp, tcp, icmp or proto (any other IP protocol, proto=N). Keys:
  src dst sport dport len ttl tos id df=1 opts=nop|ra|HEX
  ipcsum=bad ucsum=bad|zero ulen=N (UDP length field) trunc=N (cut the IP
  payload to N bytes) totlen=N (force IP total length) pad=N (link padding
  after the datagram) version=N ihl=N (malformed headers)
  dmac=dut|bcast|mcast|other   type= code= (icmp)  flags= (tcp, e.g. SA)
  payload=HEX  exact transport payload (instead of len=)
  frag=S1,S2,...  split into fragments of S bytes of IP payload (the rest
                  goes in a last one); order=I,J,... sends them in that order
                  (indices may be left out or repeated)
  cpu=N  run the step on CPU N        x=N  repeat the step N times
"""
import shlex

from . import pkt as P
from .kpath import Topology

DEFAULTS = {
    "in": {"src": Topology.peer_ip, "dst": Topology.dut_ip},
    "out": {"src": Topology.dut_ip, "dst": Topology.peer_ip},
}

TCP_FLAGS = {"F": 1, "S": 2, "R": 4, "P": 8, "A": 16, "U": 32}


class Send:
    def __init__(self, path, data, cpu, text):
        self.path = path        # "in": Ethernet frame; "out": IP packet
        self.data = data
        self.cpu = cpu
        self.text = text

    def __repr__(self):
        return "%s %s" % (self.path, self.text)


class Settle:
    def __init__(self, set_name, elements, seconds):
        self.set_name = set_name
        self.elements = elements
        self.seconds = seconds

    def __repr__(self):
        return "settle %s %d %g" % (self.set_name, self.elements, self.seconds)


class Sleep:
    def __init__(self, seconds):
        self.seconds = seconds

    def __repr__(self):
        return "sleep %g" % self.seconds


# The standard battery: valid packets, edge values, malformed packets and
# fragments, on both paths. Rulesets add their own steps around it.
BATTERY_IN = """
in udp sport=40000 dport=53 len=32
in udp sport=53 dport=53
in udp sport=0 dport=0
in udp sport=65535 dport=65535 len=0
in udp src=10.1.2.3 dport=4000
in udp src=192.168.1.1 dport=8080 len=100
in udp src=172.16.5.5 dport=123 len=1472
in udp ttl=1 tos=0xff df=1 dport=53
in udp ttl=255 id=65535 dport=5000
in udp opts=nop dport=53
in udp opts=ra dport=4000
in udp dmac=bcast dst=255.255.255.255 dport=67
in udp dmac=bcast dst=10.77.0.255 dport=138
in udp dmac=mcast dst=224.0.0.1 dport=5353
in tcp dport=80 flags=S
in tcp dport=22 sport=1022 flags=SA
in icmp type=8
in icmp type=0 code=0
in proto proto=253 len=12
in udp ucsum=bad dport=53
in udp ucsum=zero dport=53
in udp ulen=200 dport=53
in udp ulen=4 dport=53
in udp trunc=4 dport=53
in udp pad=18 len=0 dport=53
in udp ipcsum=bad dport=53
in udp totlen=400 dport=53
in udp version=6 dport=53
in udp ihl=4 dport=53
in udp dmac=other dport=53
in udp dst=10.77.9.9 dport=53
in udp src=10.77.0.1 dport=53
in udp len=64 dport=53 frag=32
in udp len=120 dport=4000 frag=48,40 order=2,0,1
in udp len=64 dport=53 id=900 frag=16 order=1
in udp len=64 dport=53 id=901 frag=16,16 order=0,0,1,2
"""

BATTERY_OUT = """
out udp sport=53 dport=40000 len=32
out udp dst=10.99.0.5 sport=4000 dport=53
out udp dst=192.168.1.1 sport=0 dport=65535 len=0
out udp dst=172.16.5.5 len=1472 dport=123
out udp ttl=1 tos=0x10 df=1 dport=53
out udp opts=nop dport=53
out tcp sport=80 dport=40000 flags=SA
out icmp type=0
out icmp type=3 code=3
out proto proto=253 len=12
out udp ucsum=bad dport=53
out udp trunc=4 dport=53
out udp len=1500 dport=53
out udp len=64 dport=53 frag=32
"""


def battery(words=()):
    which = [w for w in words if w in ("in", "out")] or ["in", "out"]
    text = (BATTERY_IN if "in" in which else "") + (BATTERY_OUT if "out" in which else "")
    if "notcp" in words:
        text = "\n".join(l for l in text.splitlines() if " tcp " not in l)
    return text


def _int(v):
    return int(v, 0)


def _payload(n, seed):
    return bytes((seed * 31 + i * 7) & 0xFF for i in range(n))


def _options(v):
    if v == "nop":
        return b"\x01\x01\x01\x00"
    if v == "ra":
        return b"\x94\x04\x00\x00"
    return bytes.fromhex(v)


class _Ids:
    """IP IDs: deterministic, never zero (the kernel replaces a zero ID on
    IP_HDRINCL sends with a random one)."""
    def __init__(self):
        self.next = 100

    def take(self):
        self.next += 1
        return self.next


def _build_ip(path, kind, kv, ident):
    d = dict(DEFAULTS[path])
    d.update(kv)
    src, dst = d["src"], d["dst"]
    n = _int(d.get("len", "16"))
    payload = bytes.fromhex(d["payload"]) if "payload" in d else _payload(n, ident)
    if kind == "udp":
        ulen = _int(d["ulen"]) if "ulen" in d else None
        l4 = P.udp(src, dst, _int(d.get("sport", "40000")), _int(d.get("dport", "4000")),
                   payload, length=ulen, check={"bad": "bad", "zero": "zero"}.get(d.get("ucsum"), "good"))
        proto = 17
    elif kind == "tcp":
        flags = sum(TCP_FLAGS[c] for c in d.get("flags", "S"))
        l4 = P.tcp(src, dst, _int(d.get("sport", "40000")), _int(d.get("dport", "80")), flags,
                   payload=payload if "len" in d else b"")
        proto = 6
    elif kind == "icmp":
        l4 = P.icmp(_int(d.get("type", "8")), _int(d.get("code", "0")), b"\0\x01\0\x01",
                    payload if "len" in d else b"")
        proto = 1
    elif kind == "proto":
        proto = _int(d["proto"])
        l4 = payload
    else:
        raise ValueError("unknown packet kind %r" % kind)
    if "trunc" in d:
        l4 = l4[:_int(d["trunc"])]
    flags = P.IP_DF if d.get("df") == "1" else 0
    datagram = P.ipv4(src, dst, proto, l4, ttl=_int(d.get("ttl", "64")),
                      tos=_int(d.get("tos", "0")), ident=ident, flags=flags,
                      options=_options(d["opts"]) if "opts" in d else b"",
                      tot_len=_int(d["totlen"]) if "totlen" in d else None,
                      check=d.get("ipcsum", "good"),
                      version=_int(d.get("version", "4")),
                      ihl=_int(d["ihl"]) if "ihl" in d else None)
    return datagram


def _frame(datagram, kv):
    dmac = {"dut": Topology.dut_mac, "bcast": b"\xff" * 6,
            "mcast": bytes.fromhex("01005e000001"),
            "other": bytes.fromhex("02fd000000ee")}[kv.get("dmac", "dut")]
    return P.eth(dmac, Topology.peer_mac, P.ETH_P_IP, datagram + b"\0" * _int(kv.get("pad", "0")))


def parse(lines, ids=None):
    """Steps from schedule lines (comments and blank lines skipped)."""
    ids = ids or _Ids()
    steps = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        words = shlex.split(line)
        if words[0] == "sleep":
            steps.append(Sleep(float(words[1])))
            continue
        if words[0] == "settle":
            steps.append(Settle(words[1], _int(words[2]),
                                float(words[3]) if len(words) > 3 else 10.0))
            continue
        if words[0] == "battery":
            steps += parse(battery(words[1:]).splitlines(), ids)
            continue
        path, kind = words[0], words[1]
        if path not in ("in", "out"):
            raise ValueError("schedule line must start with in, out, sleep, settle or battery: %r" % line)
        kv = dict(w.split("=", 1) for w in words[2:])
        cpu = _int(kv.pop("cpu", "0"))
        for _ in range(_int(kv.pop("x", "1"))):
            ident = _int(kv["id"]) if "id" in kv else ids.take()
            datagram = _build_ip(path, kind, kv, ident)
            if "frag" in kv:
                frags = P.fragment(datagram, [_int(s) for s in kv["frag"].split(",")])
                order = [_int(i) for i in kv["order"].split(",")] if "order" in kv else range(len(frags))
                pieces = [(frags[i], "%s [fragment %d/%d]" % (line, i, len(frags))) for i in order]
            else:
                pieces = [(datagram, line)]
            for ip, text in pieces:
                data = _frame(ip, kv) if path == "in" else ip
                steps.append(Send(path, data, cpu, text))
    return steps
