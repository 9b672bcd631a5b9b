#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The Redis fork filtered by fragnetd: a rule in the fork's table (inet redis)
denying a source range stops the clients in that range, and only them.

    test_filter.py --fragnetd F --fragnetctl C

A private fragnetd (its own socket, configuration and compile namespace,
named fnr<pid>d) and one fork on a one-queue veth (net_af_xdp) started with
--udp-require-rules yes, so it cannot run unfiltered. Kernel clients in the
peer namespace send from five addresses around the edges of the denied range
10.77.0.64/26: .2, .63 and .128 are outside it, .64 and .127 inside.

Steps: the fork refuses to start without a daemon; with the daemon it
registers and applies the open ruleset; every client is served; the deny
ruleset is loaded while the flows exist: the clients inside the range get
nothing, the others are still served on their existing flows and on new
ones; the drop rule's counter equals the datagrams the denied clients sent
and the accept rule's those of the others (fragnetctl list ruleset, text and
JSON); fragnetctl stats counts them as filter drops; a denied datagram never
becomes a Redis client; loading the open ruleset again serves them again.
Prints one line per check and "N passed, N failed".
"""
import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from checks import Checks  # noqa: E402
from fnr_harness import Server, Topology, free_port, redis_bin  # noqa: E402
from fragnetd import Daemon, handle_of  # noqa: E402

UDP_PORT = 6394
ALLOWED = (63, 128)      # host numbers besides .2 (the topology's own client address)
DENIED = (64, 127)       # inside 10.77.0.64/26


def rules_open(port):
    return f"""table inet redis {{
	chain input {{
		type filter hook input priority filter; policy drop;
		udp dport {port} counter accept
	}}
}}
"""


def rules_deny(port, subnet):
    return f"""table inet redis {{
	chain input {{
		type filter hook input priority filter; policy drop;
		ip saddr {subnet}.64/26 counter drop
		udp dport {port} counter accept
	}}
}}
"""


def filter_drops(daemon, name):
    total = 0
    for a in daemon.ctl_json("stats")["apps"]:
        if a["name"] == name:
            total += sum(q["drops_by_reason"].get("filter", 0) for q in a["queue_stats"])
    return total


def served(cli, n):
    """How many of n PINGs got PONG, one request datagram each."""
    ok = 0
    for i in range(n):
        try:
            ok += cli("PING", "p%d" % i) == b"p%d" % i
        except (TimeoutError, OSError):
            pass
    return ok


def silent(cli, n):
    """Send n PINGs without waiting; True when no reply comes back at all."""
    for i in range(n):
        cli.send_raw(b"*1\r\n$4\r\nPING\r\n")
    return cli.expect_silence(0.5)


def run(c, topo, daemon):
    subnet = topo.server_ip.rsplit(".", 1)[0]
    allowed_ips = [topo.client_ip] + ["%s.%d" % (subnet, h) for h in ALLOWED]
    denied_ips = ["%s.%d" % (subnet, h) for h in DENIED]
    require = ["--udp-require-rules", "yes", "--udp-idle-timeout", 60]

    # 1. Rules required and no daemon: the fork must not start.
    srv = Server(topo, "nodaemon", free_port(), UDP_PORT, extra=require,
                 daemon_socket=daemon.socket)
    try:
        srv.start(wait=30)
        c.check("without fragnetd, --udp-require-rules yes refuses to start", False,
                "it started:\n" + srv.tail())
    except RuntimeError as e:
        c.check("without fragnetd, --udp-require-rules yes refuses to start",
                "fragnetd is not answering at %s and udp-require-rules is yes" % daemon.socket in str(e),
                str(e)[-600:])
    finally:
        srv.cleanup()

    # 2. The daemon with the open ruleset; the fork registers as "redis".
    open_path = daemon.rules_file("open.nft", rules_open(UDP_PORT))
    deny_path = daemon.rules_file("deny.nft", rules_deny(UDP_PORT, subnet))
    daemon.start(rules=open_path)
    srv = Server(topo, "filtered", free_port(), UDP_PORT, extra=require,
                 daemon_socket=daemon.socket)
    try:
        srv.start(wait=30)
        log = open(srv.log).read()
        c.check("the fork runs with fragnetd's rules (its log says so)",
                "rules from fragnetd for application redis" in log and "UNFILTERED" not in log, srv.tail())
        app = daemon.app("redis")
        c.check("fragnetctl apps: redis, filtered, the fork's pid",
                app is not None and app["state"] == "filtered" and app["pid"] == srv.pid, app)

        clients = {ip: srv.udp(timeout=1.0, source=ip) for ip in allowed_ips + denied_ips}
        c.check("open rules: every address is served",
                all(served(cl, 3) == 3 for cl in clients.values()))

        # 3. Deny the range while those flows exist.
        gen0 = app["generation"] if app else 0
        rc, out, err = daemon.ctl("load", deny_path)
        c.check("fragnetctl load deny.nft: applied by every application (exit 0)", rc == 0, out + err)
        app = daemon.app("redis")
        c.check("the fork applies the new generation",
                app is not None and app["generation"] > gen0 and app["state"] == "filtered", app)
        drops_before = filter_drops(daemon, "redis")

        n_ok, n_deny = 20, 15
        for ip in allowed_ips:
            got = served(clients[ip], n_ok)
            c.check(f"{ip} (outside the range): its flow is still served ({got}/{n_ok})", got == n_ok)
        for ip in denied_ips:
            c.check(f"{ip} (inside the range): its flow gets nothing", silent(clients[ip], n_deny))
        fresh_ok = {ip: srv.udp(timeout=1.0, source=ip) for ip in allowed_ips}
        fresh_deny = {ip: srv.udp(timeout=1.0, source=ip) for ip in denied_ips}
        c.check("new flows from outside the range are served",
                all(served(cl, 1) == 1 for cl in fresh_ok.values()))
        c.check("new flows from inside the range get nothing",
                all(silent(cl, 1) for cl in fresh_deny.values()))

        # 4. Counters: exactly what each side sent.
        want_drop = len(denied_ips) * (n_deny + 1)
        want_accept = len(allowed_ips) * (n_ok + 1)
        rc, out, err = daemon.ctl("list", "ruleset")
        c.check(f"list ruleset: the drop rule counted {want_drop} packets",
                rc == 0 and re.search(r"ip saddr %s\.64/26 counter packets %d bytes"
                                      % (re.escape(subnet), want_drop), out) is not None, out + err)
        c.check(f"list ruleset: the accept rule counted {want_accept} packets",
                re.search(r"udp dport %d counter packets %d bytes" % (UDP_PORT, want_accept), out)
                is not None, out)
        j = daemon.ctl_json("list", "ruleset")
        cnt = daemon.counters("redis")
        hd = handle_of(j["ruleset"], "ip saddr")
        ha = handle_of(j["ruleset"], "udp dport %d" % UDP_PORT)
        c.check("list ruleset -j: the same counters by handle",
                cnt.get(("input", hd)) == want_drop and cnt.get(("input", ha)) == want_accept, cnt)
        drops = filter_drops(daemon, "redis") - drops_before
        c.check(f"stats: {want_drop} more filter drops", drops == want_drop, drops)
        rc, out, err = daemon.ctl("apps")
        c.check("apps (text) lists redis as filtered",
                rc == 0 and re.search(r"^redis\s.*\sfiltered$", out, re.M) is not None, out + err)

        # 5. Redis never saw the denied datagrams of the new flows.
        tcp = srv.tcp()
        clients_list = tcp("CLIENT", "LIST").decode()
        for ip, cl in fresh_deny.items():
            c.check(f"no Redis client for the denied new flow {ip}:{cl.local_port()}",
                    f"addr={ip}:{cl.local_port()} " not in clients_list, clients_list)
        c.check("the allowed new flows are Redis clients",
                all(f"addr={ip}:{cl.local_port()} " in clients_list for ip, cl in fresh_ok.items()),
                clients_list)

        # 6. Lift the rule: the same sockets are served again.
        rc, out, err = daemon.ctl("load", open_path)
        c.check("fragnetctl load open.nft (exit 0)", rc == 0, out + err)
        c.check("after the rule is lifted the denied addresses are served again",
                all(served(cl, 3) == 3 for cl in fresh_deny.values()))
        c.check("the fork is alive", srv.alive(), srv.tail())
        for cl in list(clients.values()) + list(fresh_ok.values()) + list(fresh_deny.values()):
            cl.close()
    finally:
        srv.cleanup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fragnetd", required=True)
    ap.add_argument("--fragnetctl", required=True)
    a = ap.parse_args()
    redis_bin()  # fails clearly when the fork is not built
    c = Checks()
    daemon = Daemon(a.fragnetd, a.fragnetctl, tag="fnr%dd" % os.getpid())
    try:
        with Topology(extra_hosts=ALLOWED + DENIED) as topo:
            run(c, topo, daemon)
    except Exception as e:  # noqa: BLE001 - report, clean up, fail
        c.check("no unexpected error", False, "%s: %s\n%s" % (type(e).__name__, e,
                                                              daemon.log_text() if daemon.proc else ""))
    finally:
        daemon.cleanup()
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
