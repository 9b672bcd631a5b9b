"""fragnetd's wire header for tests that speak the protocol by hand: magic
and version read from lib/ctl/proto.h, so that a protocol change needs no
edit here."""
import os
import re
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
