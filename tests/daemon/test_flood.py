#!/usr/bin/env python3
"""fragnetd against a connection flood, with the attack itself: local users
opening connections and never saying anything, up to the daemon's fd limit
and beyond its connection caps.

  test_flood.py --fragnetd F --fragnetctl C

1. Out of fds: fragnetd runs with RLIMIT_NOFILE 64 and is sent 300
   connections. It must not spin (CPU measured from /proc while the backlog
   waits) nor log without bound, must close the silent connections at the
   registration deadline (the default, 5 s), and must then serve an
   application and fragnetctl.
2. The caps: max_connections_per_uid refuses one uid's extra connections
   (with the reason) while another uid still registers; max_connections
   refuses everyone's beyond it; register_timeout_ms closes silent ones but
   not registered ones; fragnetctl stats counts it all.

Prints one line per check and "N passed, N failed".
"""
import argparse
import os
import pwd
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import Checks, main  # noqa: E402
from fragnetd import Daemon  # noqa: E402
from ctl_wire import HDR, MAGIC, MAX_MSG, VERSION  # noqa: E402
from process import as_uid, cpu_share  # noqa: E402

# message types of lib/ctl/proto.h
HELLO, IMAGE, ERROR = 1, 2, 8
RULES = """table inet flood {
	chain input {
		type filter hook input priority filter; policy accept;
	}
}
"""
EUSERS = 87


def hello(name):
    payload = struct.pack("<II64s", 1, 0, name)
    return HDR.pack(MAGIC, VERSION, HELLO, HDR.size + len(payload), 0) + payload


def open_conn(path):
    """A connected socket, or None when the daemon's backlog is full."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.setblocking(False)
    try:
        s.connect(path)
    except BlockingIOError:
        s.close()
        return None
    return s


def first_msg(s, timeout):
    """(type, status, text) of the first message, 'closed', or None (silence)."""
    s.settimeout(timeout)
    try:
        data, anc, _, _ = s.recvmsg(MAX_MSG, socket.CMSG_SPACE(16))
    except socket.timeout:
        return None
    except OSError:
        return "closed"
    for level, kind, cdata in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            for i in range(0, len(cdata) - len(cdata) % 4, 4):
                os.close(struct.unpack_from("i", cdata, i)[0])
    if not data:
        return "closed"
    mtype = HDR.unpack_from(data)[2]
    status, text = 0, ""
    if mtype == ERROR:
        status, _ = struct.unpack_from("<iI", data, HDR.size)
        text = data[HDR.size + 8:].split(b"\0")[0].decode()
    return mtype, status, text


def closed_by_daemon(s, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = first_msg(s, max(0.01, deadline - time.time()))
        if m == "closed":
            return True
    return False


def log_lines(d, offset=0):
    return d.log_text()[offset:].count("\n")


def register(path, name):
    """True when the daemon answers a HELLO with an image."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    try:
        s.connect(path)
        s.sendmsg([hello(name)])
        m = first_msg(s, 5)
        return m not in (None, "closed") and m[0] == IMAGE
    except OSError:
        return False
    finally:
        s.close()


# ---------------------------------------------------------------- 1. out of fds

def phase_out_of_fds(c, args):
    d = Daemon(args.fragnetd, args.fragnetctl, tag=f"fnc{os.getpid()}f")
    conns = []
    try:
        d.start(rules=d.rules_file("flood.nft", RULES), nofile=64)
        start_lines = log_lines(d)
        for _ in range(300):
            s = open_conn(d.socket)
            if s is not None:
                conns.append(s)
        time.sleep(0.3)  # the daemon takes what it can and runs out of fds
        cpu = cpu_share(d.proc.pid, 2.0)
        lines = log_lines(d) - start_lines
        print(f"  300 connections tried, {len(conns)} connected (accepted or in the "
              f"backlog); fragnetd at its fd limit: CPU {cpu:.1%} of a core over 2 s, "
              f"{lines} log lines")
        c.check("out of fds, fragnetd does not spin (CPU < 20% of a core over 2 s)",
                cpu < 0.20, f"{cpu:.1%}")
        c.check("... and its log stays bounded (< 100 lines in 2.3 s)", lines < 100,
                f"{lines} lines; last: {d.log_text()[-300:]}")
        c.check("... it says it pauses accepting", "not accepting for" in d.log_text(),
                d.log_text()[-300:])
        # the first ones it accepted are closed at the registration deadline (5 s)
        closed = sum(closed_by_daemon(s, 0.05) for s in conns[:20])
        c.check("the registration deadline has not passed yet: none closed", closed == 0,
                f"{closed} closed")
        time.sleep(5.5)
        closed = sum(closed_by_daemon(s, 0.5) for s in conns[:20])
        c.check("after register_timeout_ms (5 s) the silent connections are closed",
                closed == 20, f"{closed} of 20")
        c.check("... and logged as such",
                "neither registered nor sent a request within 5000 ms" in d.log_text())
        for s in conns:
            s.close()
        conns = []
        deadline = time.time() + 15
        ok = False
        while not ok and time.time() < deadline:
            ok = register(d.socket, b"flood")
        c.check("then a legitimate application registers and receives its image", ok)
        rc, _, err = d.ctl("apps")
        c.check("... and fragnetctl is served", rc == 0, err)
        st = d.ctl_json("stats").get("connections", {})
        c.check("stats count the pauses and the silent connections closed",
                st.get("accept_pauses", 0) > 0 and st.get("register_timeouts", 0) >= 20, st)
        c.check("fragnetd is alive", d.alive())
    finally:
        for s in conns:
            s.close()
        d.cleanup()


# ---------------------------------------------------------------- 2. caps

def phase_caps(c, args):
    app_uid = pwd.getpwnam("daemon").pw_uid
    other_uid = pwd.getpwnam("bin").pw_uid
    d = Daemon(args.fragnetd, args.fragnetctl, tag=f"fnc{os.getpid()}g",
               extra_config="app_users = daemon, bin\nmax_connections = 30\n"
                            "max_connections_per_uid = 8\nregister_timeout_ms = 1000\n")
    try:
        d.start(rules=d.rules_file("flood.nft", RULES))
        os.chmod(d.log_path, 0o644)
        # one uid opens 20 and registers on each it keeps (the refused ones are
        # told before they send anything); while it holds them, another uid
        # registers
        r, w = os.pipe()
        go_r, go_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            os.close(go_w)
            os.setgroups([])
            os.setgid(app_uid)
            os.setuid(app_uid)
            held, refused, other = [], 0, 0
            for _ in range(20):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                s.connect(d.socket)
                m = first_msg(s, 0.2)  # a refusal comes at once, before any HELLO
                if m is None:
                    s.sendmsg([hello(b"flood")])
                    m = first_msg(s, 2)
                if m not in (None, "closed") and m[0] == ERROR and m[1] == -EUSERS and \
                        "too many connections from uid" in m[2]:
                    refused += 1
                elif m not in (None, "closed") and m[0] == IMAGE:
                    held.append(s)
                else:
                    other += 1
            os.write(w, f"{len(held)} {refused} {other}".encode())
            os.read(go_r, 1)
            os._exit(0)
        os.close(w)
        os.close(go_r)
        held, refused, other = map(int, os.read(r, 100).split())
        c.check("one uid, 20 connections, max_connections_per_uid 8: 8 kept, 12 refused "
                "with EUSERS and the reason", (held, refused, other) == (8, 12, 0),
                (held, refused, other))
        c.check("... while it holds them another uid registers",
                as_uid(other_uid, lambda: 0 if register(d.socket, b"flood") else 1) == 0)
        os.write(go_w, b"x")
        os.waitpid(pid, 0)
        os.close(r)
        os.close(go_w)

        # everyone's cap (root has no per-uid one)
        conns = [open_conn(d.socket) for _ in range(40)]
        conns = [s for s in conns if s is not None]
        time.sleep(0.2)  # refusals are written at once; the deadline is 1 s away
        answers = [first_msg(s, 0.005) for s in conns]
        refused = sum(1 for m in answers if m not in (None, "closed") and m[0] == ERROR and
                      "too many connections (max_connections 30)" in m[2])
        c.check("40 connections, max_connections 30: 10 refused with the reason",
                len(conns) == 40 and refused == 10, f"{len(conns)} connected, {refused} refused")
        silent = [s for s, m in zip(conns, answers) if m is None]
        time.sleep(1.5)
        closed = sum(closed_by_daemon(s, 0.5) for s in silent)
        c.check("register_timeout_ms 1000: the 30 silent ones are closed after it",
                len(silent) == 30 and closed == 30, f"{closed} of {len(silent)}")
        for s in conns:
            s.close()
        reg = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        reg.settimeout(5)
        reg.connect(d.socket)
        reg.sendmsg([hello(b"flood")])
        m = first_msg(reg, 5)
        registered = m not in (None, "closed") and m[0] == IMAGE
        time.sleep(1.5)
        c.check("... but a registered application stays past it",
                registered and not closed_by_daemon(reg, 0.3))
        reg.close()
        st = d.ctl_json("stats")["connections"]
        c.check("fragnetctl stats counts the refusals and the deadline closes",
                st["refused_max_per_uid"] == 12 and st["refused_max"] == 10 and
                st["register_timeouts"] >= 30 and st["max"] == 30 and st["max_per_uid"] == 8,
                st)
        rc, out, _ = d.ctl("stats")
        c.check("... in its text too", rc == 0 and "12 over max_connections_per_uid" in out,
                out[:400])
        print(f"  connections: {st}")
        c.check("fragnetd is alive", d.alive())
    finally:
        d.cleanup()


def run(args):
    c = Checks()
    phase_out_of_fds(c, args)
    phase_caps(c, args)
    return c.summary()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--fragnetd", required=True)
    p.add_argument("--fragnetctl", required=True)
    sys.exit(main(p, run))
