#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Clients of the Redis fork over UDP, from the client namespace: redis-cli
--udp (arguments, piped commands, --pipe, interactive on a pty) and the
client library (udp_client_test, built by meson), with losses made by nft
rules in the client namespace: the first long reply dropped (a read is
sent again), replies dropped (a write reports "unknown" and is applied
once), requests dropped (a write reports "unknown" and is not applied).

    test_clients.py --client-test PATH [--only REGEX]
"""
import argparse
import os
import pty
import re
import select
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from checks import Checks, main, require  # noqa: E402
from fnr_harness import ROOT, Server, Topology, encode, free_port  # noqa: E402
from topology import sh  # noqa: E402

UDP_PORT = 6394
TABLE = "fnr_clients"


class Losses:
    """nft rules in the client namespace that lose datagrams of the fork's port."""

    def __init__(self, topo):
        self.ns, self.port = topo.client_ns, UDP_PORT
        self.counting, self.counted = False, None
        # Requests are lost past the socket, on the way out of the veth (an
        # output chain's drop would fail the send() with EPERM instead).
        self.nft(f"add table inet {TABLE}\n"
                 f"add chain inet {TABLE} input {{ type filter hook input priority 0; }}\n"
                 f"add table netdev {TABLE}\n"
                 f"add chain netdev {TABLE} egress {{ type filter hook egress device "
                 f"\"{topo.client_if}\" priority 0; }}\n")

    def nft(self, script):
        subprocess.run(["ip", "netns", "exec", self.ns, "nft", "-f", "-"], input=script,
                       text=True, check=True)

    def set(self, what):
        if self.counting:
            out = subprocess.run(["ip", "netns", "exec", self.ns, "nft", "list", "chain", "netdev",
                                  TABLE, "egress"], capture_output=True, text=True, check=True)
            self.counted = int(re.search(r"counter packets (\d+)", out.stdout).group(1))
        self.counting = what == "count-requests"
        rules = {
            "allow": "",
            "count-requests": f"add rule netdev {TABLE} egress udp dport {self.port} counter\n",
            # numgen counts the packets that reach it: only the first reply
            # longer than a handshake's (the GETs of 200-byte values) is dropped
            "drop-first-reply": f"add rule inet {TABLE} input udp sport {self.port} "
                                "udp length > 150 numgen inc mod 1000000 0 drop\n",
            "drop-replies": f"add rule inet {TABLE} input udp sport {self.port} drop\n",
            # replies starting with ':' (integers), not the handshake's (+ or -)
            "drop-integer-replies": f"add rule inet {TABLE} input udp sport {self.port} "
                                    "@th,64,8 0x3a drop\n",
            "drop-requests": f"add rule netdev {TABLE} egress udp dport {self.port} drop\n",
        }[what]
        self.nft(f"flush chain inet {TABLE} input\nflush chain netdev {TABLE} egress\n" + rules)


def cli_bin():
    return os.path.join(ROOT, "redis", "work", "bin", "redis-cli")


def cli(topo, *args, stdin=None, timeout=30):
    """redis-cli --udp ARGS in the client namespace: CompletedProcess."""
    cmd = ["ip", "netns", "exec", topo.client_ns, cli_bin(), "--udp", "-h", topo.server_ip,
           "-p", str(UDP_PORT)] + [str(a) for a in args]
    return subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)


def t_cli_args(topo, srv, losses):
    r = cli(topo, "SET", "cli1", "hello")
    require(r.returncode == 0 and r.stdout == b"OK\n", "SET: %r %r" % (r.stdout, r.stderr))
    r = cli(topo, "GET", "cli1")
    require(r.stdout == b"hello\n", "GET: %r" % r.stdout)
    require(srv.tcp()("GET", "cli1") == b"hello", "TCP reads what redis-cli --udp wrote")


def t_cli_piped(topo, srv, losses):
    script = b"SET p1 1\nINCR p1\nGET p1\nMGET p1 nokey\nSELECT 5\nSET indb5 yes\nDBSIZE\n"
    r = cli(topo, stdin=script)
    require(r.returncode == 0, "exit %d: %r" % (r.returncode, r.stderr))
    require(r.stdout.split(b"\n") == [b"OK", b"2", b"2", b"2", b"", b"OK", b"OK", b"1", b""],
            "output %r" % r.stdout)
    tcp = srv.tcp()
    tcp("SELECT", 5)
    require(tcp("GET", "indb5") == b"yes", "SELECT 5 applied to the flow's later commands")


def t_cli_pipe_mode(topo, srv, losses):
    n = 3000
    stream = b"".join(encode("SET", "mass:%d" % i, "v%d" % i) for i in range(n))
    stream += encode("INCR", "mass:0")  # an error reply, counted
    r = cli(topo, "--pipe", stdin=stream, timeout=120)
    out = r.stdout.decode()
    require(r.returncode == 1 and "errors: 1, replies: %d" % (n + 1) in out,
            "exit %d, %r %r" % (r.returncode, out, r.stderr[-300:]))
    require(b"not an integer" in r.stderr, "the error reply is printed")
    tcp = srv.tcp()
    require(tcp("GET", "mass:%d" % (n - 1)) == b"v%d" % (n - 1), "the last SET arrived")
    require(tcp("EVAL", "return #redis.call('KEYS', 'mass:*')", 0) == n, "all %d keys" % n)


def t_cli_interactive(topo, srv, losses):
    pid, fd = pty.fork()
    if pid == 0:
        # linenoise's plain mode: a prompt and a line, no cursor queries
        os.environ["TERM"] = "dumb"
        os.execvp("ip", ["ip", "netns", "exec", topo.client_ns, cli_bin(), "--udp",
                         "-h", topo.server_ip, "-p", str(UDP_PORT)])
    out = b""

    def until(token, secs=10):
        nonlocal out
        deadline = time.monotonic() + secs
        while token not in out:
            left = deadline - time.monotonic()
            require(left > 0, "no %r in %r" % (token, out[-300:]))
            if select.select([fd], [], [], left)[0]:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    break
        return out

    try:
        prompt = b"%s:%d> " % (topo.server_ip.encode(), UDP_PORT)
        until(prompt)
        os.write(fd, b"SET inter 42\r")
        until(b"OK")
        os.write(fd, b"INCR inter\r")
        until(b"(integer) 43")
        os.write(fd, b"SELECT 2\r")
        until(prompt[:-2] + b"[2]> ")
        losses.set("drop-replies")
        os.write(fd, b"INCR lostinter\r")
        until(b"may or may not have been applied")
        losses.set("allow")
        # The session goes on, on a new flow, still in db 2.
        os.write(fd, b"SET indb2 x\r")
        os.write(fd, b"DBSIZE\r")
        until(b"(integer) 2")
        os.write(fd, b"quit\r")
        os.waitpid(pid, 0)
    finally:
        losses.set("allow")
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
    tcp = srv.tcp()
    tcp("SELECT", 2)
    require(tcp("GET", "lostinter") == b"1", "the INCR whose reply was lost was applied once")


def t_cli_lost_write(topo, srv, losses):
    losses.set("drop-integer-replies")
    try:
        r = cli(topo, "INCR", "clilost")
    finally:
        losses.set("allow")
    require(r.returncode == 1, "exit %d" % r.returncode)
    require(b"no reply: the write may or may not have been applied" in r.stdout + r.stderr,
            "message: %r %r" % (r.stdout, r.stderr))
    require(srv.tcp()("GET", "clilost") == b"1", "applied exactly once (never sent again)")
    # Nothing answers at all: the new flow's handshake fails, the write is
    # never sent, and the message does not say "may have been applied".
    losses.set("drop-replies")
    try:
        r = cli(topo, "INCR", "clilost2")
    finally:
        losses.set("allow")
    require(r.returncode == 1 and b"Error: new flow: no reply to UDPCOOKIE" in r.stderr,
            "unanswered handshake: %r %r" % (r.stdout, r.stderr))
    require(srv.tcp()("EXISTS", "clilost2") == 0, "and the write was not sent")


def t_cli_read_resent(topo, srv, losses):
    value = b"again" * 40
    srv.tcp()("SET", "clir", value)
    losses.set("drop-first-reply")
    try:
        r = cli(topo, "GET", "clir")
    finally:
        losses.set("allow")
    require(r.returncode == 0 and r.stdout == value + b"\n", "GET %r %r" % (r.stdout, r.stderr))


def t_library(topo, srv, losses, client_test):
    proc = subprocess.Popen(["ip", "netns", "exec", topo.client_ns, client_test, topo.server_ip,
                             str(UDP_PORT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    lines = []
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            lines.append(line)
            print("     | " + line)
            if line.startswith("pause "):
                losses.set(line.split()[1])
                proc.stdin.write("\n")
                proc.stdin.flush()
        proc.wait(30)
    finally:
        losses.set("allow")
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    require(proc.returncode == 0, "udp_client_test exit %s" % proc.returncode)
    require(not any(l.startswith("FAIL") for l in lines))
    require(sum(l.startswith("ok ") for l in lines) >= 20, "%d checks ran" % len(lines))
    # Whole commands packed up to 1472 bytes a datagram.
    per = 1472 // len(encode("INCR", "ctr"))
    require(losses.counted == -(-300 // per),
            "300 INCRs in %s datagrams, want %d" % (losses.counted, -(-300 // per)))
    tcp = srv.tcp()
    tcp("SELECT", 3)
    require(tcp("GET", "lost1") == b"1", "INCR with its reply dropped: applied once")
    require(tcp("EXISTS", "lost2") == 0, "SET with its request dropped: not applied")
    require(tcp("EXISTS", "inmulti") == 0, "the lost transaction never ran")


def run(a):
    checks = Checks(a.only)
    with Topology("af_xdp") as topo:
        srv = Server(topo, "clients", free_port(), UDP_PORT).start()
        try:
            losses = Losses(topo)
            for name, fn, extra in [
                    ("redis-cli --udp with a command in its arguments", t_cli_args, ()),
                    ("redis-cli --udp with commands piped to stdin", t_cli_piped, ()),
                    ("redis-cli --udp --pipe (3000 SETs and an error)", t_cli_pipe_mode, ()),
                    ("redis-cli --udp interactive on a pty, a lost write", t_cli_interactive, ()),
                    ("redis-cli --udp: a lost write is reported, applied once; an unanswered "
                     "handshake sends nothing", t_cli_lost_write, ()),
                    ("redis-cli --udp: a read whose reply is lost is sent again", t_cli_read_resent,
                     ()),
                    ("client library: basics, pipeline, losses (udp_client_test)", t_library,
                     (a.client_test,))]:
                checks.run(name, fn, topo, srv, losses, *extra)
            checks.check("server still up", srv.alive(), srv.tail())
        finally:
            srv.cleanup()
    return checks.summary()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--client-test", required=True, help="udp_client_test (meson builds it)")
    ap.add_argument("--only", help="run tests whose name matches this regex")
    sys.exit(main(ap, run))
