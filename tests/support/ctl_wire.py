"""fragnetd's wire header for tests that speak the protocol by hand: magic
and version read from lib/ctl/proto.h, so that a protocol change needs no
edit here."""
import array
import os
import re
import socket
import struct

_PROTO_H = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "..", "lib", "ctl", "proto.h")


def _define(text, name):
    m = re.search(r"^#define\s+%s\s+(0x[0-9a-fA-F]+|\d+)" % name, text, re.M)
    if m is None:
        raise RuntimeError("%s not found in %s" % (name, _PROTO_H))
    return int(m.group(1), 0)


with open(_PROTO_H) as _f:
    _text = _f.read()
MAGIC = _define(_text, "FN_CTL_MAGIC")
VERSION = _define(_text, "FN_CTL_VERSION")
MAX_MSG = _define(_text, "FN_CTL_MAX_MSG")
HDR = struct.Struct("<IHHII")   # magic, version, type, length, seq


def recv_msg(s, timeout=None):
    """(type, payload, fds, seq) of the next message on s, or None when the
    daemon closed the connection or said nothing in time (timeout in
    seconds; None: the socket's own). Passed fds are the caller's to close."""
    if timeout is not None:
        s.settimeout(timeout)
    fds = array.array("i")
    try:
        data, anc, _, _ = s.recvmsg(MAX_MSG, socket.CMSG_SPACE(4 * fds.itemsize))
    except (ConnectionResetError, socket.timeout, BlockingIOError):
        return None
    for level, kind, cdata in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(cdata[:len(cdata) - len(cdata) % fds.itemsize])
    if not data:
        return None
    _, _, mtype, _, seq = HDR.unpack_from(data)
    return mtype, data[HDR.size:], list(fds), seq
