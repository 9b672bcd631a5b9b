#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_ctl: one well-formed message of every type
of lib/ctl/proto.h, and near misses of each (one byte short, a bad string).
  make_corpus.py corpus-ctl"""
import os
import struct
import sys

MAGIC, VERSION = 0x54434E46, 7
HDR = struct.Struct("<IHHII")


def msg(mtype, payload, seq=1):
    return HDR.pack(MAGIC, VERSION, mtype, HDR.size + len(payload), seq) + payload


def counter(gen, handle, packets, nbytes, chain=b"", obj=b"", final=False):
    names = chain + obj
    return struct.pack("<QQQQHHI", gen, handle, packets, nbytes, len(chain), len(obj),
                       1 if final else 0) + names + b"\0" * (-len(names) % 8)


def drop(name, count):
    return struct.pack("<24sQ", name, count)


SEEDS = {
    "hello": msg(1, struct.pack("<II64s", 2, 0, b"echo")),
    "image": msg(2, struct.pack("<QQ", 3, 400)),
    "applied": msg(3, struct.pack("<QiI", 3, 0, 0) + b"ok".ljust(1024, b"\0")),
    "applied-refused": msg(3, struct.pack("<QiI", 3, -74, 0) + b"bad image".ljust(1024, b"\0")),
    "stats-req": msg(4, b""),
    "stats-queue": msg(5, struct.pack("<II9Q", 1, 2, 10, 1000, 9, 900, 8, 7, 3, 2, 1)
                       + drop(b"filter", 2) + drop(b"eth_dst", 1)
                       + b"\0" * 32 * 30),
    "stats-counters": msg(6, struct.pack("<II", 4, 0)
                          + counter(3, 2, 11, 319, chain=b"input")
                          + counter(3, 3, 20, 690, chain=b"input")
                          + counter(3, 0, 5, 100, obj=b"named")
                          + counter(2, 2, 7, 203, chain=b"input", final=True)),
    "stats-end": msg(7, struct.pack("<QIIIIQQIIQQQ", 3, 2, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0)),
    "error": msg(8, struct.pack("<iI", -13, 0) + b"not allowed".ljust(1024, b"\0")),
    "request-load": msg(9, struct.pack("<IIII", 1, 0, 120, 0) + b"rules.nft".ljust(256, b"\0")),
    "request-list": msg(9, struct.pack("<IIII", 3, 1, 0, 0) + b"\0" * 256),
    "request-counters": msg(9, struct.pack("<IIII", 6, 1, 0, 0) + b"\0" * 256),
    "data": msg(10, b"table inet echo {\n}\n"),
    "reply": msg(11, struct.pack("<iI", 0, 65) + b"done".ljust(1024, b"\0")),
    "xsk": msg(12, struct.pack("<II", 1, 1) + b"eth1".ljust(16, b"\0")),
    "xsk-bound": msg(13, struct.pack("<IiII", 1, 0, 2, 0) + b"".ljust(1024, b"\0")),
    "xsk-refused": msg(13, struct.pack("<IiII", 1, -16, 0, 0) + b"queue taken".ljust(1024, b"\0")),
    "kernel-gen": msg(14, struct.pack("<QQ", 4, 3)),
    # name, queue (all), snaplen, ring_bytes, mode (0 packets, 1 trace), filter
    "capture-req": msg(15, struct.pack("<64sIIII", b"echo", 0xFFFFFFFF, 256, 1 << 20, 0)
                       + b"udp dport 7".ljust(1024, b"\0")),
    "trace-req": msg(15, struct.pack("<64sIIII", b"echo", 0, 256, 1 << 20, 1)
                     + b"udp dport 7".ljust(1024, b"\0")),
    # id, queue, n_queues, n_slots, snaplen, pid, filter_len, mode, name
    "capture": msg(16, struct.pack("<QIIIIIII64s4x", 1, 0xFFFFFFFF, 2, 256, 256, 4711, 0, 0,
                                   b"echo")),
    "trace": msg(16, struct.pack("<QIIIIIII64s4x", 2, 0, 2, 64, 256, 4711, 512, 1, b"echo")),
    "capture-stop": msg(17, struct.pack("<Q", 1)),
}


# Bytes of the string that ends each message type's payload.
TRAILING_STRING = {"hello": 64, "applied": 1024, "applied-refused": 1024, "error": 1024,
                   "request-load": 256, "request-list": 256, "request-counters": 256,
                   "reply": 1024, "xsk": 16, "xsk-bound": 1024, "xsk-refused": 1024,
                   "capture-req": 1024, "trace-req": 1024}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for old in os.listdir(out):
        os.unlink(os.path.join(out, old))
    for name, data in SEEDS.items():
        near = {name: data, name + "-short": data[:-1]}
        if name in TRAILING_STRING:
            n = TRAILING_STRING[name]
            near[name + "-unterminated"] = data[:-n] + b"A" * n
        for n, d in near.items():
            with open(os.path.join(out, n), "wb") as f:
                f.write(d)


if __name__ == "__main__":
    main()
