#!/usr/bin/env python3
"""fragnetd against local peers that would make it spend or hold without
bound, with the attacks themselves:

1. A refused peer that never reads why and keeps sending: the daemon must
   not spin on its readable socket, and closes it within a second.
2. An application that asks (AF_XDP socket requests, each answered) and
   never reads the answers: the daemon stops reading it once 256 KiB of
   answers wait, so its memory stays flat; its log stays bounded; and once
   the peer reads, every answer is there, in order.
3. An application that answers a stats query with 66 000 counters of long
   names: the daemon keeps its share only (memory bounded, the drop counted
   and said), and `fragnetctl list counters` still shows the others.
4. An application sent capture rings cannot shrink them under fragnetctl:
   the memfd's size is sealed.

  test_greedy.py --fragnetd F --fragnetctl C

Prints one line per check and "N passed, N failed".
"""
import argparse
import fcntl
import json
import os
import pwd
import select
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import Checks, main  # noqa: E402
from fragnetd import Daemon  # noqa: E402
from process import as_uid, cpu_share  # noqa: E402
from ctl_wire import HDR, MAGIC, MAX_MSG, VERSION, recv_msg  # noqa: E402

# message types of lib/ctl/proto.h
(HELLO, IMAGE, APPLIED, STATS_REQ, STATS_QUEUE, STATS_COUNTERS, STATS_END, ERROR, REQUEST,
 DATA, REPLY, XSK, XSK_BOUND, KERNEL_GEN, CAPTURE_REQ, CAPTURE) = range(1, 17)
CMD_APPS = 4
COUNTER = struct.Struct("<QQQQHHI")   # struct fn_ctl_counter
STATS_END_MSG = struct.Struct("<QIIIIQQIIQQQ")  # struct fn_ctl_stats_end
RULES = """table inet greedy {
	chain input {
		type filter hook input priority filter; policy accept;
		udp dport 7 counter accept
	}
}
table inet honest {
	chain input {
		type filter hook input priority filter; policy accept;
		udp dport 7 counter accept
	}
}
"""


def msg(mtype, payload=b"", seq=0):
    return HDR.pack(MAGIC, VERSION, mtype, HDR.size + len(payload), seq) + payload


def hello(name):
    return msg(HELLO, struct.pack("<II64s", 1, 0, name))


def xsk():
    return msg(XSK, struct.pack("<II16s", 0, 0, b"lo"))


def request(command):
    return msg(REQUEST, struct.pack("<IIII256s", command, 0, 0, 0, b""), seq=1)


def connect_as(uid, path):
    """A socket connected to path by a process running as uid: the daemon
    sees that uid (SO_PEERCRED is taken at connect), the test holds it."""
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)

    def connect():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(path)
        socket.send_fds(child, [b"s"], [s.fileno()])
        return 0
    as_uid(uid, connect)
    _, fds, _, _ = socket.recv_fds(parent, 1, 1)
    parent.close()
    child.close()
    return socket.socket(fileno=fds[0])


def send_until_full(s, message, most, seconds=2.0):
    """Send message up to `most` times without blocking, giving up once the
    socket has stayed full for `seconds`: how many went."""
    s.setblocking(False)
    sent, full_since = 0, None
    while sent < most:
        try:
            s.send(message)
            sent += 1
            full_since = None
        except BlockingIOError:
            full_since = full_since or time.monotonic()
            if time.monotonic() - full_since > seconds:
                break
            time.sleep(0.01)
    return sent


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    return 0


def drain(s, seconds=5):
    """The types of the messages waiting, in order, until none comes within
    `seconds` (passed fds closed)."""
    types = []
    while (m := recv_msg(s, seconds)) is not None:
        types.append(m[0])
        for fd in m[2]:
            os.close(fd)
    return types


def peer_alive(s):
    """False once the daemon closed its end, whatever is still to read."""
    p = select.poll()
    p.register(s, select.POLLIN | select.POLLRDHUP)
    return not any(ev & (select.POLLHUP | select.POLLRDHUP) for _, ev in p.poll(0))


def registered(s, name):
    """Register as name; the IMAGE's fds are closed. True when it came."""
    s.settimeout(5)
    s.send(hello(name))
    m = recv_msg(s)
    for fd in (m[2] if m else []):
        os.close(fd)
    return m is not None and m[0] == IMAGE


# ---------------------------------------------------------------- 1. refused, unread

def check_refused_unread(c, d, app_uid):
    s = connect_as(app_uid, d.socket)
    ok = registered(s, b"greedy")
    # answers the peer does not read, until its socket is full (but far
    # below the daemon's read pause)
    send_until_full(s, xsk(), 100, seconds=0.3)
    time.sleep(0.3)
    s.setblocking(True)
    s.send(request(CMD_APPS))          # not an administrator: refused
    t_refused = time.monotonic()
    send_until_full(s, xsk(), 100, seconds=0.2)  # and it keeps talking
    share = cpu_share(d.proc.pid, 0.6)
    c.check("a refused peer that does not read why and keeps sending: the daemon does "
            "not spin (CPU < 20% of a core)", ok and share < 0.2, f"{share:.0%}")
    while peer_alive(s) and time.monotonic() - t_refused < 5:
        time.sleep(0.05)
    waited = time.monotonic() - t_refused
    c.check("... and closes it within its grace (1 s) whether it reads or not",
            not peer_alive(s) and waited < 2.5, f"{waited:.2f} s")
    s.close()
    st = d.ctl_json("stats")["connections"]
    c.check("... counted in stats (refusals_unread) and logged",
            st.get("refusals_unread", 0) >= 1 and "did not read its refusal" in d.log_text(), st)


# ---------------------------------------------------------------- 2. asks, never reads

def check_unread_answers(c, d, app_uid):
    s = connect_as(app_uid, d.socket)
    ok = registered(s, b"greedy")
    lines_before = d.log_text().count("\n")
    rss_before = proc_status(d.proc.pid, "VmRSS")
    sent = send_until_full(s, xsk(), 40000, seconds=1.0)
    time.sleep(0.5)
    grown = proc_status(d.proc.pid, "VmRSS") - rss_before
    # 40 000 answers of ~1 KiB: 40 MiB if all were read and queued
    c.check("an application asks and never reads the answers: the daemon stops reading "
            "it (the sender blocks) and its memory stays flat (< 8 MiB more)",
            ok and sent < 40000 and grown < 8192,
            f"{sent} requests sent, RSS +{grown} kB")
    lines = d.log_text().count("\n") - lines_before
    c.check("... the refusals it asked for are logged within the peer budget "
            "(< 40 lines)", lines < 40, f"{lines} lines")
    types = drain(s, seconds=1)
    answers = types.count(XSK_BOUND)
    c.check("... once it reads, every request it sent was answered, in order, "
            "and it is still connected",
            answers == sent and set(types) == {XSK_BOUND} and peer_alive(s),
            f"{answers} answers to {sent} requests, types {sorted(set(types))}")
    s.close()
    st = d.ctl_json("stats")["connections"]
    c.check("... the pause is counted (read_pauses)", st.get("read_pauses", 0) >= 1, st)


# ---------------------------------------------------------------- 3. stats amplification

def counters_msg(first, n, name):
    recs = b""
    for i in range(n):
        rec = COUNTER.pack(1, first + i, 1, 64, len(name), 0, 0) + name
        recs += rec + b"\0" * (-len(rec) % 8)
    return msg(STATS_COUNTERS, struct.pack("<II", n, 0) + recs)


def flooded_query(d, app_uid, *args):
    """fragnetctl ARGS while application greedy answers the stats query with
    66 000 counters of 255-byte names and honest with one: (fragnetctl's
    exit status, stdout, stderr, records sent, the daemon's VmHWM growth)."""
    greedy = connect_as(app_uid, d.socket)
    honest = connect_as(app_uid, d.socket)
    ok = registered(greedy, b"greedy") and registered(honest, b"honest")
    name = b"c" * 255
    per_msg = (MAX_MSG - HDR.size - 8) // (COUNTER.size + 256)
    flood = [counters_msg(i * per_msg, per_msg, name) for i in range(66000 // per_msg + 1)]
    hwm_before = proc_status(d.proc.pid, "VmHWM")
    ctl = subprocess.Popen([d.fragnetctl, "-s", d.socket] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ok = answer(greedy, flood) and answer(honest, [counters_msg(3, 1, b"input")]) and ok
    out, err = ctl.communicate(timeout=60)
    hwm = proc_status(d.proc.pid, "VmHWM") - hwm_before
    greedy.close()
    honest.close()
    return ctl.returncode if ok else -1, out, err, len(flood) * per_msg, hwm


def check_counter_flood(c, d, app_uid):
    rc, out, err, sent, hwm = flooded_query(d, app_uid, "-j", "list", "counters")
    c.check("an application answers a stats query with 66 000 counters of 255-byte "
            "names: fragnetctl list counters still answers", rc == 0, err[-300:])
    apps = {a["name"]: a for a in json.loads(out)["apps"]} if rc == 0 else {}
    kept = sum(len(gen["counters"]) for gen in apps.get("greedy", {}).get("generations", []))
    dropped = apps.get("greedy", {}).get("counters_dropped", 0)
    honest_rows = [r for gen in apps.get("honest", {}).get("generations", [])
                   for r in gen["counters"]]
    c.check("... the other application's counter is shown",
            honest_rows == [{"chain": "input", "handle": 3, "packets": 1, "bytes": 64}],
            honest_rows)
    share = min(32768 // 2, (1 << 20) // 2 // 255)  # query.h, split between two
    c.check(f"... the greedy one keeps its share ({share} records: half of 1 MiB of "
            "names), the rest dropped and counted", kept == share and kept + dropped == sent,
            f"kept {kept}, dropped {dropped}")
    c.check("... and the daemon's peak memory grows < 96 MiB", hwm < 96 * 1024,
            f"VmHWM +{hwm} kB")
    rc, text, err, _, _ = flooded_query(d, app_uid, "list", "counters")
    c.check("... said in the text report",
            rc == 0 and f"{sent - share} counter(s) not shown: over its share of a query"
            in text, (text or err)[-300:])


def answer(s, messages):
    """Read the STATS_REQ and answer it with messages and a STATS_END."""
    s.settimeout(10)
    s.setblocking(True)
    while True:
        m = recv_msg(s)
        if m is None:
            return False
        if m[0] == STATS_REQ:
            break
    seq = m[3]
    for body in messages:
        s.send(body[:HDR.size - 4] + struct.pack("<I", seq) + body[HDR.size:])
    s.send(msg(STATS_END, STATS_END_MSG.pack(1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), seq=seq))
    return True


# ---------------------------------------------------------------- 4. capture rings

def check_capture_sealed(c, d):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(d.socket)
    ok = registered(s, b"captured")
    ctl = subprocess.Popen([d.fragnetctl, "-s", d.socket, "capture", "captured", "-c", "1"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    m = None
    while True:
        m = recv_msg(s, 10)
        if m is None or m[0] == CAPTURE:
            break
        for fd in m[2]:
            os.close(fd)
    fd = m[2][0] if m and m[2] else -1
    seals = fcntl.fcntl(fd, fcntl.F_GET_SEALS) if fd >= 0 else 0
    want = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL
    try:
        os.ftruncate(fd, 0)
        shrunk = True
    except OSError:
        shrunk = False
    c.check("capture rings sent to an application: sealed against shrinking and growing, "
            "ftruncate refused", ok and fd >= 0 and seals & want == want and not shrunk,
            f"seals {seals:#x}, shrunk {shrunk}")
    if fd >= 0:
        os.close(fd)
    ctl.terminate()
    ctl.communicate(timeout=20)
    s.close()


def run(args):
    c = Checks()
    app_uid = pwd.getpwnam("daemon").pw_uid
    d = Daemon(args.fragnetd, args.fragnetctl, tag=f"fnc{os.getpid()}g",
               extra_config="app_users = daemon\nstats_timeout_ms = 10000\n")
    try:
        d.start(rules=d.rules_file("greedy.nft", RULES))
        check_refused_unread(c, d, app_uid)
        check_unread_answers(c, d, app_uid)
        check_counter_flood(c, d, app_uid)
        check_capture_sealed(c, d)
        c.check("fragnetd is alive and stops cleanly", d.alive() and d.stop() == 0,
                d.log_text()[-300:])
    finally:
        d.cleanup()
    return c.summary()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--fragnetd", required=True)
    p.add_argument("--fragnetctl", required=True)
    sys.exit(main(p, run))
