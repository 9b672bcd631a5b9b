"""nftables trace events (NFT_MSG_TRACE on NFNLGRP_NFTRACE), read straight
from netlink: for every base chain a traced packet runs through, the rules
that matched (with their handles and verdicts), the policy if it applied,
and, on the first event of each chain, the packet's headers, mark and
interfaces as that chain saw them."""
import socket
import struct

NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NFNLGRP_NFTRACE = 9
NFNL_SUBSYS_NFTABLES = 10
NFT_MSG_TRACE = 17

# enum nft_trace_attributes
A_TABLE, A_CHAIN, A_RULE_HANDLE, A_TYPE, A_VERDICT, A_ID = 1, 2, 3, 4, 5, 6
A_LL, A_NETWORK, A_TRANSPORT, A_IIF, A_IIFTYPE, A_OIF, A_OIFTYPE = 7, 8, 9, 10, 11, 12, 13
A_MARK, A_NFPROTO, A_POLICY = 14, 15, 16

# enum nft_trace_types
T_POLICY, T_RETURN, T_RULE = 1, 2, 3

# Verdict codes (NF_* and NFT_*).
V_DROP, V_ACCEPT = 0, 1
V_CONTINUE, V_BREAK, V_JUMP, V_GOTO, V_RETURN = -1, -2, -3, -4, -5
VERDICT_NAMES = {V_DROP: "drop", V_ACCEPT: "accept", V_CONTINUE: "continue",
                 V_BREAK: "break", V_JUMP: "jump", V_GOTO: "goto", V_RETURN: "return"}


class Event:
    __slots__ = ("table", "chain", "handle", "type", "verdict", "target", "id",
                 "nh", "th", "iif", "oif", "mark", "policy")

    def __repr__(self):
        what = {T_POLICY: "policy", T_RETURN: "return", T_RULE: "rule"}.get(self.type, "?")
        v = VERDICT_NAMES.get(self.verdict, self.verdict)
        if self.type == T_POLICY:
            v = VERDICT_NAMES.get(self.policy, self.policy)
        return "%s/%s %s handle=%s %s%s" % (self.table, self.chain, what, self.handle, v,
                                             " " + self.target if self.target else "")


def _attrs(buf):
    out, p = {}, 0
    while p + 4 <= len(buf):
        ln, typ = struct.unpack_from("=HH", buf, p)
        if ln < 4:
            break
        out[typ & 0x3FFF] = buf[p + 4:p + ln]
        p += (ln + 3) & ~3
    return out


def _cstr(b):
    return b.split(b"\0", 1)[0].decode()


def _event(attrs):
    e = Event()
    e.table = _cstr(attrs.get(A_TABLE, b""))
    e.chain = _cstr(attrs.get(A_CHAIN, b""))
    e.handle = struct.unpack("!Q", attrs[A_RULE_HANDLE])[0] if A_RULE_HANDLE in attrs else None
    e.type = struct.unpack("!I", attrs[A_TYPE])[0]
    e.id = struct.unpack("!I", attrs[A_ID])[0] if A_ID in attrs else None
    e.verdict, e.target = None, None
    if A_VERDICT in attrs:
        v = _attrs(attrs[A_VERDICT])
        e.verdict = struct.unpack("!i", v[1])[0] if 1 in v else None
        e.target = _cstr(v[2]) if 2 in v else None
    e.policy = struct.unpack("!I", attrs[A_POLICY])[0] if A_POLICY in attrs else None
    e.nh = attrs.get(A_NETWORK)
    e.th = attrs.get(A_TRANSPORT)
    e.iif = struct.unpack("!I", attrs[A_IIF])[0] if A_IIF in attrs else None
    e.oif = struct.unpack("!I", attrs[A_OIF])[0] if A_OIF in attrs else None
    e.mark = struct.unpack("!I", attrs[A_MARK])[0] if A_MARK in attrs else None
    return e


class Listener:
    """Open in the namespace to watch; events come in processing order."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind((0, 0))
        self.sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, NFNLGRP_NFTRACE)
        self.sock.setblocking(False)

    def drain(self):
        """Every event queued so far."""
        events = []
        while True:
            try:
                data = self.sock.recv(1 << 20)
            except BlockingIOError:
                return events
            off = 0
            while off + 16 <= len(data):
                ln, typ = struct.unpack_from("=IH", data, off)
                if typ == (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE:
                    events.append(_event(_attrs(data[off + 20:off + ln])))
                off += (ln + 3) & ~3

    def close(self):
        self.sock.close()
