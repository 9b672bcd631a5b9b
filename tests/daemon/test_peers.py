#!/usr/bin/env python3
"""fragnetd against its peers: who may connect, what they may ask, and what
happens to bytes that are not the protocol. Also runs test_seal (an
application trying to write its rules) and checks configuration errors.

  test_peers.py --fragnetd F --fragnetctl C --seal T

Prints one line per check and "N passed, N failed".
"""
import argparse
import array
import os
import pwd
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import Checks, main  # noqa: E402
from fragnetd import Daemon  # noqa: E402
from ctl_wire import HDR, MAGIC, MAX_MSG, VERSION, recv_msg  # noqa: E402
from process import as_uid  # noqa: E402

# message types of lib/ctl/proto.h
(HELLO, IMAGE, APPLIED, STATS_REQ, STATS_QUEUE, STATS_COUNTERS, STATS_END, ERROR, REQUEST,
 DATA, REPLY) = range(1, 12)

RULES = """table inet sealtest {
	chain input {
		type filter hook input priority filter; policy drop;
		udp dport 7 counter accept
	}
}
"""


def msg(mtype, payload=b"", seq=0, magic=MAGIC, version=VERSION, length=None):
    return HDR.pack(magic, version, mtype, HDR.size + len(payload) if length is None else length,
                    seq) + payload


def hello(name=b"peer", queues=1):
    return msg(HELLO, struct.pack("<II64s", queues, 0, name))


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(path)
    return s


def closed_by_daemon(s):
    """True when the daemon hangs up (after any messages it still sends)."""
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            m = recv_msg(s)
        except OSError:
            return True
        if m is None:
            return True
        for fd in m[2]:
            os.close(fd)
    return False


def error_text(m):
    status, _ = struct.unpack_from("<iI", m[1])
    return status, m[1][8:].split(b"\0")[0].decode()


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


# ---------------------------------------------------------------- checks

def check_credentials(c, d, nobody, app_uid):
    def refused_nobody():
        s = connect(d.socket)
        m = recv_msg(s)
        ok = m is not None and m[0] == ERROR
        status, text = error_text(m) if ok else (0, "")
        return 0 if ok and status == -13 and f"uid {nobody}" in text and \
            closed_by_daemon(s) else 1
    c.check(f"a peer with uid {nobody} (not allowed) gets EACCES and is disconnected",
            as_uid(nobody, refused_nobody) == 0)
    c.check("... and the daemon logs the refusal",
            re.search(rf"uid {nobody} gid \d+ is not allowed", d.log_text()) is not None)

    def app_can_register():
        s = connect(d.socket)
        s.sendmsg([hello(b"sealtest")])
        m = recv_msg(s)
        if m is None or m[0] != IMAGE or len(m[2]) != 1:
            return 1
        os.close(m[2][0])
        return 0
    c.check(f"an allowed application uid ({app_uid}) registers and receives its image",
            as_uid(app_uid, app_can_register) == 0)

    def app_cannot_admin():
        s = connect(d.socket)
        s.sendmsg([msg(REQUEST, struct.pack("<IIII256s", 4, 0, 0, 0, b""))])  # apps
        m = recv_msg(s)
        if m is None or m[0] != ERROR:
            return 1
        status, text = error_text(m)
        return 0 if status == -13 and "may not run fragnetctl" in text else 1
    c.check("... but may not run fragnetctl commands", as_uid(app_uid, app_cannot_admin) == 0)

    def ctl_as_app():
        r2 = subprocess.run([d.fragnetctl, "-s", d.socket, "apps"], capture_output=True,
                            text=True)
        return 0 if r2.returncode == 3 and "refused" in r2.stderr else 1

    c.check("fragnetctl run by that uid: exit 3, 'refused'", as_uid(app_uid, ctl_as_app) == 0)


def applied(generation, status=0):
    return msg(APPLIED, struct.pack("<QiI", generation, status, 0) + b"\0" * 1024)


def check_names(c, d, app_uid, bound_uid):
    """app.bound.users binds name "bound" to one uid; an APPLIED counts only
    for a generation the peer was sent and has not answered."""
    def register_bound():
        s = connect(d.socket)
        s.sendmsg([hello(b"bound")])
        m = recv_msg(s)
        if m is not None and m[0] == IMAGE:
            for fd in m[2]:
                os.close(fd)
            return 0
        if m is not None and m[0] == ERROR:
            status, text = error_text(m)
            return 2 if status == -13 and "may not register as bound" in text and \
                closed_by_daemon(s) else 3
        return 4
    c.check(f"uid {app_uid} may register, but not as 'bound' (app.bound.users): EACCES, "
            "the reason, disconnected", as_uid(app_uid, register_bound) == 2)
    c.check(f"... uid {bound_uid}, the one it is bound to, may",
            as_uid(bound_uid, register_bound) == 0)
    c.check("... and the daemon logs the refusal",
            f"uid {app_uid} may not register as bound" in d.log_text())

    s = connect(d.socket)
    s.sendmsg([hello(b"sealtest")])
    m = recv_msg(s)
    ok = m is not None and m[0] == IMAGE
    gen = struct.unpack_from("<Q", m[1])[0] if ok else 0
    for fd in (m[2] if m else []):
        os.close(fd)
    s.sendmsg([applied(gen)])
    c.check("APPLIED for the generation it was sent: taken (still connected)",
            ok and recv_msg(s) is None and d.app("sealtest") is not None)
    s.sendmsg([applied(gen)])
    m = recv_msg(s)
    while m is not None and m[0] == STATS_REQ:  # the query of d.app() above
        m = recv_msg(s)
    c.check("APPLIED again for the same generation: refused and disconnected",
            m is not None and m[0] == ERROR and "never sent to it, or was answered" in
            error_text(m)[1] and closed_by_daemon(s), m)
    s.close()
    s = connect(d.socket)
    s.sendmsg([hello(b"sealtest")])
    m = recv_msg(s)
    for fd in (m[2] if m else []):
        os.close(fd)
    s.sendmsg([applied(gen + 100)])
    m = recv_msg(s)
    c.check("APPLIED for a generation never sent: refused and disconnected",
            m is not None and m[0] == ERROR and closed_by_daemon(s), m)
    s.close()
    st = d.ctl_json("stats")["connections"]
    c.check("... both counted, as is the name refused",
            st["applied_unsent"] == 2 and st["refused_names"] == 1, st)


def malformed_messages(rnd):
    """Hand-made bad messages, then random ones."""
    good_hello = hello(b"x")
    cases = [
        b"\0",
        b"FNCT",
        HDR.pack(MAGIC, VERSION, HELLO, HDR.size, 0)[:15],
        msg(HELLO, b"", magic=0xdeadbeef),
        msg(HELLO, struct.pack("<II64s", 1, 0, b"x"), version=VERSION + 1),
        msg(0, b""),
        msg(99, b"abc"),
        msg(HELLO, struct.pack("<II64s", 1, 0, b"x"), length=10),
        msg(HELLO, struct.pack("<II64s", 1, 0, b"x"), length=0xffffffff),
        msg(HELLO, struct.pack("<II", 1, 0) + b"A" * 64),           # name not terminated
        msg(HELLO, struct.pack("<II64s", 0, 0, b"x")),                # no queues
        msg(HELLO, struct.pack("<II64s", 100000, 0, b"x")),           # too many
        msg(HELLO, struct.pack("<II64s", 1, 0, b"../etc")),           # bad name
        msg(HELLO, struct.pack("<II64s", 1, 0, b"x") + b"extra"),
        msg(APPLIED, struct.pack("<QiI", 1, 0, 0) + b"\0" * 1024),   # before hello
        msg(STATS_END, b"\0" * 40),
        msg(DATA, b"text without a request"),
        msg(DATA, b""),
        msg(IMAGE, struct.pack("<QQ", 1, 100)),                       # daemon-only type
        msg(REPLY, b"\0" * 1032),
        msg(REQUEST, struct.pack("<IIII256s", 77, 0, 0, 0, b"")),     # unknown command
        msg(REQUEST, struct.pack("<IIII256s", 1, 0, 1 << 30, 0, b"")),  # huge text
        msg(REQUEST, struct.pack("<IIII", 1, 0, 10, 0) + b"A" * 256),  # source unterminated
        msg(REQUEST, struct.pack("<IIII256s", 1, 0xff, 10, 0, b"")),  # unknown flags
        msg(STATS_COUNTERS, struct.pack("<II", 5, 0)),                # records missing
        msg(STATS_COUNTERS, struct.pack("<II", 1, 0) + struct.pack("<QQQQHHI", 1, 1, 1, 1,
                                                                     1000, 0, 0)),
        good_hello + good_hello,                                      # two in one
        b"\xff" * MAX_MSG,
    ]
    # registered, then nonsense: HELLO twice, stats for no query, bad counters
    sequences = [
        [good_hello, good_hello],
        [good_hello, msg(STATS_COUNTERS, struct.pack("<II", 1, 0)
                         + struct.pack("<QQQQHHI", 1, 1, 1, 1, 0, 0, 0))],
        [good_hello, msg(REQUEST, struct.pack("<IIII256s", 4, 0, 0, 0, b""))],
        [msg(REQUEST, struct.pack("<IIII256s", 1, 0, 4, 0, b"f")), msg(DATA, b"12345")],
        [msg(REQUEST, struct.pack("<IIII256s", 1, 0, 4, 0, b"f")), good_hello],
    ]
    for _ in range(400):
        n = rnd.choice([0, 1, 8, 15, 16, 17, 40, 100, 1100, rnd.randrange(0, 70000)])
        body = bytes(rnd.getrandbits(8) for _ in range(min(n, 2000))) + b"\0" * max(0, n - 2000)
        if rnd.random() < 0.6 and n >= 16:
            t = rnd.randrange(0, 14)
            body = HDR.pack(MAGIC, VERSION, t, n if rnd.random() < 0.7 else
                            rnd.randrange(0, 1 << 32), rnd.randrange(0, 1 << 32)) + body[16:]
        cases.append(body[:MAX_MSG + 100])
    return cases, sequences


def check_malformed(c, d):
    rnd = random.Random(4242)
    cases, sequences = malformed_messages(rnd)
    pid = d.proc.pid
    # the image for names without a table is made (and its memfd kept) on first use
    s = connect(d.socket)
    s.sendmsg([hello(b"x")])
    m = recv_msg(s)
    for fd in (m[2] if m else []):
        os.close(fd)
    s.close()
    time.sleep(0.2)
    fds_before = open_fds(pid)
    closed = 0
    for body in cases:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(5)
        s.connect(d.socket)
        try:
            if rnd.random() < 0.3:
                # and an fd the daemon never asked for
                r, w = os.pipe()
                s.sendmsg([body], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                    array.array("i", [r, w]))])
                os.close(r)
                os.close(w)
            else:
                s.sendmsg([body])
        except OSError:
            pass  # e.g. EMSGSIZE: too large to send at all
        closed += closed_by_daemon(s)
        s.close()
    for seq in sequences:
        s = connect(d.socket)
        for body in seq:
            s.sendmsg([body])
        closed += closed_by_daemon(s)
        s.close()
    total = len(cases) + len(sequences)
    c.check(f"{total} malformed or out-of-turn messages: the daemon is alive", d.alive())
    c.check("... it closed every such connection", closed == total, f"{closed} of {total}")
    time.sleep(0.3)
    fds_after = open_fds(pid)
    c.check("... no fd leaked (passed fds closed too)", fds_after <= fds_before,
            f"{fds_before} -> {fds_after}")
    rc, out, err = d.ctl("apps")
    c.check("... and still serves fragnetctl", rc == 0, err)
    s = connect(d.socket)
    s.sendmsg([hello(b"sealtest")])
    m = recv_msg(s)
    c.check("... and applications", m is not None and m[0] == IMAGE and len(m[2]) == 1)
    if m:
        for fd in m[2]:
            os.close(fd)
    s.close()
    c.check("... each one logged on one line",
            d.log_text().count("malformed") + d.log_text().count("out of turn") > 0)


def check_seal(c, d, seal):
    r = subprocess.run([seal, d.socket], capture_output=True, text=True, timeout=60)
    print(r.stdout, end="")
    m = re.search(r"(\d+) passed, (\d+) failed", r.stdout)
    c.check("test_seal ran", m is not None and r.returncode in (0, 1), r.stderr)
    if m:
        c.add(int(m.group(1)), int(m.group(2)))


def check_fragnetctl_usage(c, args):
    ctl = args.fragnetctl
    r = subprocess.run([ctl, "--help"], capture_output=True, text=True)
    c.check("fragnetctl --help: a manual (NAME, SYNOPSIS, COMMANDS, EXIT STATUS), exit 0",
            r.returncode == 0 and all(h in r.stdout for h in
                                      ("NAME", "SYNOPSIS", "COMMANDS", "EXIT STATUS")), r.stderr)
    for argv, expect in [([], "no command"), (["frobnicate"], "unknown command 'frobnicate'"),
                         (["list"], "usage: fragnetctl list ruleset"),
                         (["load"], "usage: fragnetctl load FILE"),
                         (["load", "/nonexistent.nft"], "/nonexistent.nft: No such file"),
                         (["stats", "--watch=x"], "--watch: 'x' is not a number"),
                         (["stats", "extra"], "stats takes no arguments")]:
        r = subprocess.run([ctl] + argv, capture_output=True, text=True)
        c.check(f"fragnetctl {' '.join(argv) or '(nothing)'}: exit 2, one clear line",
                r.returncode == 2 and expect in r.stderr and r.stderr.count("\n") <= 2,
                r.stderr)
    r = subprocess.run([ctl, "-s", "/nonexistent/fragnetd.sock", "apps"], capture_output=True,
                       text=True)
    c.check("fragnetctl without a daemon: exit 3, says where it looked",
            r.returncode == 3 and "cannot reach fragnetd at /nonexistent/fragnetd.sock" in
            r.stderr, r.stderr)
    # a server another user listens with at the path: not fragnetd, nothing sent to it
    nobody = pwd.getpwnam("nobody").pw_uid
    d = tempfile.mkdtemp(prefix="fragnetctl-impostor-")
    os.chmod(d, 0o777)
    path = os.path.join(d, "fragnetd.sock")
    impostor = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    os.seteuid(nobody)  # the listener's credentials are whoever called listen()
    try:
        impostor.bind(path)
        impostor.listen(4)
    finally:
        os.seteuid(0)
    try:
        try:
            r = subprocess.run([ctl, "-s", path, "apps"], capture_output=True, text=True,
                               timeout=10)
        except subprocess.TimeoutExpired:  # it sent its request and waits for a reply
            r = subprocess.CompletedProcess([], -1, "", "timed out")
        impostor.settimeout(1)
        conn, _ = impostor.accept()
        conn.settimeout(1)
        try:
            got = conn.recv(4096)
        except OSError:
            got = b""
        conn.close()
        c.check(f"fragnetctl against a server run by uid {nobody}: exit 3, refused, "
                "nothing sent", r.returncode == 3 and f"runs as uid {nobody}, neither root"
                in r.stderr and got == b"", (r.stderr, got))
    finally:
        impostor.close()
        shutil.rmtree(d, ignore_errors=True)


def check_config_errors(c, args):
    d = Daemon(args.fragnetd, args.fragnetctl, tag=f"fnc{os.getpid()}x")
    try:
        for text, expect in [
            ("sokcet = /tmp/x\n", "fragnetd.conf:1: unknown key 'sokcet'"),
            ("netns = a\nnetns = b\n", "fragnetd.conf:2: 'netns' given twice"),
            ("app_users = no-such-user-here\n", "no such user 'no-such-user-here'"),
            ("socket_mode = 999\n", "is not an octal mode"),
            ("socket = relative.sock\n", "must be absolute"),
            ("just some words\n", "expected 'key = value'"),
        ]:
            with open(d.config, "w") as f:
                f.write(text)
            r = subprocess.run([args.fragnetd, "-c", d.config], capture_output=True, text=True,
                               timeout=30)
            c.check(f"config error reported: {expect}",
                    r.returncode == 1 and expect in r.stderr, r.stderr)
        d.write_config(rules=d.rules_file("bad.nft", "table inet x {\n\tchain c {\n"
                                                     "\t\tfib daddr type local accept\n"
                                                     "\t}\n}\n"))
        r = subprocess.run([args.fragnetd, "-c", d.config], capture_output=True, text=True,
                           timeout=30)
        c.check("a rules file that does not lower stops the start, naming the rule",
                r.returncode == 1 and "fib" in r.stderr and "cannot start" in r.stderr, r.stderr)
        c.check("... and leaves no namespace behind",
                not os.path.exists(f"/run/netns/{d.netns}"))
    finally:
        d.cleanup()


def check_rules_dir(c, args):
    """The examples in rules/ as a configured rules directory."""
    d = Daemon(args.fragnetd, args.fragnetctl, tag=f"fnc{os.getpid()}r")
    try:
        d.start(rules=args.rules_dir)
        text = d.ctl_json("list", "ruleset")["ruleset"]
        c.check("a rules directory loads every *.nft in it (the examples of rules/)",
                "table inet echo" in text and "table inet fragnet" in text, text[:300])
        for name in sorted(os.listdir(args.rules_dir)):
            if name.endswith(".nft"):
                rc, out, err = d.ctl("check", os.path.join(args.rules_dir, name))
                c.check(f"example rules/{name} passes check", rc == 0, err)
        os.kill(d.proc.pid, signal.SIGHUP)
        deadline = time.time() + 5
        while time.time() < deadline and "SIGHUP" not in d.log_text():
            time.sleep(0.05)
        time.sleep(0.3)
        c.check("SIGHUP reloads the directory (nothing changed: generation stays)",
                "nothing changes for applications" in d.log_text(), d.log_text()[-300:])
    finally:
        d.cleanup()


def check_sd_notify(c, args):
    """systemd's Type=notify: READY=1 once the socket serves, STOPPING=1 at the end."""
    d = Daemon(args.fragnetd, args.fragnetctl, tag=f"fnc{os.getpid()}n")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = os.path.join(d.dir, "notify.sock")
    notify.bind(path)
    notify.settimeout(20)
    try:
        d.start(wait=False, env=dict(os.environ, NOTIFY_SOCKET=path))
        ready = notify.recv(4096).decode()
        rc, _, err = d.ctl("apps")
        c.check("sd_notify: READY=1 with a status line", ready.startswith("READY=1\n") and
                "STATUS=serving generation 1" in ready, ready)
        c.check("... sent once the socket already serves", rc == 0, err)
        d.proc.send_signal(signal.SIGTERM)
        stopping = notify.recv(4096).decode()
        c.check("sd_notify: STOPPING=1 on SIGTERM", stopping == "STOPPING=1", stopping)
    finally:
        notify.close()
        d.cleanup()


def run(args):
    c = Checks()
    nobody = pwd.getpwnam("nobody").pw_uid
    app_uid = pwd.getpwnam("daemon").pw_uid
    bound_uid = pwd.getpwnam("bin").pw_uid
    d = Daemon(args.fragnetd, args.fragnetctl,
               extra_config="app_users = daemon, bin\napp.bound.users = bin\n")
    try:
        d.start(rules=d.rules_file("sealtest.nft", RULES))
        os.chmod(d.log_path, 0o644)
        check_credentials(c, d, nobody, app_uid)
        check_names(c, d, app_uid, bound_uid)
        check_seal(c, d, args.seal)
        check_malformed(c, d)
        second = subprocess.run([args.fragnetd, "-c", d.config], capture_output=True,
                                text=True, timeout=30)
        c.check("a second fragnetd on the same socket refuses to start",
                second.returncode == 1 and "another fragnetd" in second.stderr,
                second.stderr)
        c.check("fragnetd stops cleanly", d.stop() == 0, d.log_text()[-300:])
    finally:
        d.cleanup()
    check_fragnetctl_usage(c, args)
    check_config_errors(c, args)
    check_rules_dir(c, args)
    check_sd_notify(c, args)
    return c.summary()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--fragnetd", required=True)
    p.add_argument("--fragnetctl", required=True)
    p.add_argument("--seal", required=True)
    p.add_argument("--rules-dir", required=True)
    sys.exit(main(p, run))
