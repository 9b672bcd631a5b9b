#!/usr/bin/env python3
"""fragnetd end to end: a private fragnetd, fragnet-echo as the application in
a network namespace (af_packet, two queues) on a veth pair, kernel clients in
the peer namespace.

  test_daemon.py --fragnetd F --fragnetctl C --echo E

Phases: no daemon; rules that drop a port and their counters; check and
refused loads; a load that changes one rule (the others' counters go on); a
live nft edit; reloads while traffic flows, where the counters of every
generation add up to exactly the traffic; kill -9 and restart; unfiltered
until a daemon appears. Prints one line per check and
"N passed, N failed".
"""
import argparse
import json
import os
import re
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import Checks, main  # noqa: E402
from echo import ECHO_PORT, Echo  # noqa: E402
from fragnetd import Daemon, handle_of  # noqa: E402
from topology import Pair, sh  # noqa: E402

SUBNET = "10.99.0"
SERVER_ADDR = f"{SUBNET}.1"
DROP_PORT = 9

RULES_DROP9 = """table inet echo {
	chain input {
		type filter hook input priority filter; policy accept;
		udp dport 9 counter drop
		udp dport 7 counter accept
	}
}
"""
# The same filtering, another image (one more rule): each load is a new generation.
RULES_DROP9_B = """table inet echo {
	chain input {
		type filter hook input priority filter; policy accept;
		udp dport 9 counter drop
		udp dport 7 counter accept
		udp dport 4242 counter drop
	}
}
"""
# The port 9 rule changed in place (so it keeps its handle), port 7's not.
RULES_DROP9_CHANGED = """table inet echo {
	chain input {
		type filter hook input priority filter; policy accept;
		ip saddr 10.99.0.0/24 udp dport 9 counter drop
		udp dport 7 counter accept
	}
}
"""
RULES_DROP7 = """table inet echo {
	chain input {
		type filter hook input priority filter; policy accept;
		udp dport 7 counter drop
	}
}
"""
RULES_OPEN = """table inet echo {
	chain input {
		type filter hook input priority filter; policy accept;
		udp dport 7 counter accept
	}
}
"""
# A ruleset with nothing for echo: neither inet echo, ip echo nor inet fragnet.
RULES_OTHER = """table inet other {
	chain input {
		type filter hook input priority filter; policy accept;
	}
}
"""
RULES_SYNTAX = """table inet echo {
	chain input {
		type filter hook input priority filter; policy accept;
		udp dport 9 countr drop
	}
}
"""
RULES_UNSUPPORTED = """table inet echo {
	chain input {
		type filter hook input priority filter; policy accept;
		udp dport 9 counter drop
		fib daddr type local accept
	}
}
"""


# ---------------------------------------------------------------- client side
# Run inside the client namespace (this script re-executes itself there).

def client_echo(count, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    ok = 0
    for i in range(count):
        msg = f"echo {i}".encode()
        s.sendto(msg, (SERVER_ADDR, port))
        try:
            data, _ = s.recvfrom(2048)
            ok += data == msg
        except socket.timeout:
            pass
    return {"ok": ok}


def client_probe(port):
    """One datagram to port: 'reply', 'refused' (ICMP port unreachable) or 'timeout'."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    s.connect((SERVER_ADDR, port))
    s.send(b"probe")
    try:
        s.recv(100)
        return {"result": "reply"}
    except ConnectionRefusedError:
        return {"result": "refused"}
    except socket.timeout:
        return {"result": "timeout"}


def client_send(count, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(count):
        s.sendto(b"x", (SERVER_ADDR, port))
        time.sleep(0.001)
    return {"sent": count}


def client_stream(seconds):
    """Echo traffic with a window of outstanding datagrams, plus one datagram
    to the dropped port per round, for `seconds` or until SIGUSR1; every
    echo is accounted for."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.settimeout(1.0)
    d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    window, seq, sent7, sent9 = 8, 0, 0, 0
    got, outstanding = set(), set()
    end = time.time() + seconds

    def stop(signum, frame):
        nonlocal end
        end = 0
    signal.signal(signal.SIGUSR1, stop)
    while time.time() < end or outstanding:
        while time.time() < end and len(outstanding) < window:
            s.sendto(seq.to_bytes(8, "big"), (SERVER_ADDR, ECHO_PORT))
            outstanding.add(seq)
            seq += 1
            sent7 += 1
            d.sendto(b"d", (SERVER_ADDR, DROP_PORT))
            sent9 += 1
        try:
            data, _ = s.recvfrom(64)
        except socket.timeout:
            break  # what is outstanding now is lost
        n = int.from_bytes(data[:8], "big")
        if n in outstanding:
            outstanding.discard(n)
            got.add(n)
    return {"sent7": sent7, "got7": len(got), "lost7": len(outstanding), "sent9": sent9}


def client_main(argv):
    cmd, args = argv[0], [int(a) for a in argv[1:]]
    r = {"echo": client_echo, "probe": client_probe, "send": client_send,
         "stream": client_stream}[cmd](*args)
    print(json.dumps(r))


# ---------------------------------------------------------------- test side

def drops(daemon, name):
    """{reason: count} summed over the application's queues."""
    total = {}
    for a in daemon.ctl_json("stats")["apps"]:
        if a["name"] != name:
            continue
        for q in a["queue_stats"]:
            for k, v in q["drops_by_reason"].items():
                total[k] = total.get(k, 0) + v
    return total


def phase_no_daemon(c, topo, args, daemon):
    echo = Echo(topo, args.echo, "af_packet", env=daemon.env)
    started = echo.wait_started(timeout=40)
    rc = echo.stop()
    c.check("without fragnetd (and without --unfiltered) the application refuses to start",
            not started and rc != 0 and "not connected" in echo.text(), echo.text()[-400:])


def phase_drop_port(c, topo, daemon):
    r = topo.in_client("probe", DROP_PORT)
    c.check("a port the rules drop: no ICMP answer (dropped by the filter, not closed)",
            r["result"] == "timeout", r)
    r = topo.in_client("send", 10, DROP_PORT)
    r = topo.in_client("echo", 20, ECHO_PORT)
    c.check("the accepted port still echoes (20 of 20)", r["ok"] == 20, r)
    rc, out, err = daemon.ctl("list", "ruleset")
    c.check("list ruleset: port 9 rule counted 11 packets (1 probe + 10)",
            rc == 0 and "udp dport 9 counter packets 11 bytes" in out, out + err)
    c.check("list ruleset: port 7 rule counted 20 packets",
            "udp dport 7 counter packets 20 bytes" in out, out)
    c.check("list ruleset names the application and its lcores",
            re.search(r"# echo\[\d+\]: generation \d+, 2 lcore\(s\)", out) is not None, out)
    j = daemon.ctl_json("list", "ruleset")
    h9 = handle_of(j["ruleset"], "udp dport 9")
    cnt = daemon.counters("echo")
    c.check("list ruleset -j: the same counters by chain and handle",
            cnt.get(("input", h9)) == 11, cnt)
    d = drops(daemon, "echo")
    c.check("stats: the 11 drops are counted as filter drops", d.get("filter") == 11, d)
    rc, out, err = daemon.ctl("-j", "stats", "--watch", "0.2", "-n", "3")
    lines = out.strip().splitlines()
    c.check("stats --watch 0.2 -n 3 -j: three JSON reports",
            rc == 0 and len(lines) == 3 and all(json.loads(x)["apps"] for x in lines),
            out + err)
    rc, out, err = daemon.ctl("apps")
    c.check("apps (text): a header and the echo line",
            rc == 0 and re.search(r"^echo\s+\d+\s+0\s+2\s+\d+\s+\d+\s+\d+\s+\d+\s+filtered$",
                                  out, re.M) is not None, out)
    a = daemon.app("echo")
    c.check("apps: echo, 2 queues, filtered, with pid and uid",
            a is not None and a["queues"] == 2 and a["state"] == "filtered"
            and a["pid"] > 0 and a["uid"] == 0 and a["rx_packets"] > 0, a)


def phase_refused_loads(c, topo, daemon):
    gen = daemon.app("echo")["generation"]
    good = daemon.rules_file("good.nft", RULES_DROP9_B)
    rc, out, err = daemon.ctl("check", good)
    c.check("check of a good file: exit 0", rc == 0 and "every table lowers" in out, out + err)
    c.check("check changes nothing", daemon.app("echo")["generation"] == gen)
    bad = daemon.rules_file("syntax.nft", RULES_SYNTAX)
    rc, out, err = daemon.ctl("load", bad)
    c.check("load of a syntax error: exit 1, nft's message at file:line",
            rc == 1 and "syntax.nft:4:" in err and "countr" in err, f"rc={rc} {err}")
    uns = daemon.rules_file("unsupported.nft", RULES_UNSUPPORTED)
    rc, out, err = daemon.ctl("load", uns)
    c.check("load of an unsupported rule: exit 1, names table, chain, handle, expression",
            rc == 1 and re.search(r"table inet echo, chain input, rule handle \d+, "
                                  r"expression \d+ \(fib\)", err) is not None, f"rc={rc} {err}")
    c.check("... and quotes the rule", "rule: fib daddr type local accept" in err, err)
    rc, out, err = daemon.ctl("-j", "check", uns)
    c.check("check -j of it: JSON with ok false", rc == 1 and json.loads(out)["ok"] is False,
            out + err)
    inc = daemon.rules_file("include.nft", 'include "/etc/shadow"\n')
    rc, out, err = daemon.ctl("load", inc)
    c.check("load of a file with 'include' is refused", rc == 1 and "include" in err, err)
    c.check("refused loads changed no generation", daemon.app("echo")["generation"] == gen)
    before = daemon.counters("echo")
    r = topo.in_client("send", 5, DROP_PORT)
    r = topo.in_client("echo", 5, ECHO_PORT)
    after = daemon.counters("echo")
    j = daemon.ctl_json("list", "ruleset")
    h9 = handle_of(j["ruleset"], "udp dport 9")
    c.check("the old rules still filter (port 9 counted 5 more, port 7 echoes)",
            after.get(("input", h9), 0) - before.get(("input", h9), 0) == 5 and r["ok"] == 5,
            (before, after, r))


def counts(daemon, *handles):
    cnt = daemon.counters("echo")
    return tuple(cnt.get(("input", h)) for h in handles)


def phase_reload_one_changed(c, topo, daemon):
    """A load that changes one rule: the counter of the rule it leaves alone
    goes on, the changed rule's starts afresh."""
    text = daemon.ctl_json("list", "ruleset")["ruleset"]
    h9, h7 = handle_of(text, "udp dport 9"), handle_of(text, "udp dport 7")
    topo.in_client("send", 4, DROP_PORT)
    r = topo.in_client("echo", 6, ECHO_PORT)
    n9, n7 = counts(daemon, h9, h7)
    c.check(f"before the load: port 9 rule at {n9}, port 7 rule at {n7}",
            r["ok"] == 6 and n9 is not None and n9 >= 4 and n7 is not None and n7 >= 6,
            (n9, n7, r))
    gen = daemon.app("echo")["generation"]
    rc, _, err = daemon.ctl("load", daemon.rules_file("drop9c.nft", RULES_DROP9_CHANGED))
    text = daemon.ctl_json("list", "ruleset")["ruleset"]
    c.check("load of the rules with the port 9 rule changed: a new generation, same handles",
            rc == 0 and daemon.app("echo")["generation"] == gen + 1
            and (handle_of(text, "udp dport 9"), handle_of(text, "udp dport 7")) == (h9, h7),
            (rc, err, text))
    c.check("after it the unchanged port 7 rule kept its count, the changed port 9 rule "
            "starts at 0", counts(daemon, h9, h7) == (0, n7), (counts(daemon, h9, h7), n7))
    topo.in_client("send", 3, DROP_PORT)
    r = topo.in_client("echo", 5, ECHO_PORT)
    c.check("... and both count on from there",
            r["ok"] == 5 and counts(daemon, h9, h7) == (3, n7 + 5),
            (counts(daemon, h9, h7), n7, r))
    rc, out, err = daemon.ctl("list", "ruleset")
    c.check("list ruleset shows the port 7 rule's count across the load",
            f"udp dport 7 counter packets {n7 + 5} bytes" in out, out + err)
    rc, _, err = daemon.ctl("load", daemon.rules_file("drop9.nft", RULES_DROP9))
    c.check("load of the first rules again: the port 9 rule changed back counts afresh, "
            "port 7's goes on", rc == 0 and counts(daemon, h9, h7) == (0, n7 + 5),
            (err, counts(daemon, h9, h7)))


def phase_live_edit(c, topo, daemon):
    gen = daemon.app("echo")["generation"]
    r = topo.in_client("echo", 3, ECHO_PORT)
    c.check("before the edit port 7 echoes", r["ok"] == 3, r)
    text = daemon.ctl_json("list", "ruleset")["ruleset"]
    h9, h7 = handle_of(text, "udp dport 9"), handle_of(text, "udp dport 7")
    before = counts(daemon, h9, h7)
    t0 = time.time()
    sh("ip", "netns", "exec", daemon.netns, "nft", "insert", "rule", "inet", "echo", "input",
       "udp", "dport", "7", "counter", "drop")
    waited = daemon.wait_applied("echo", gen + 1, timeout=5)
    elapsed = time.time() - t0
    c.check("a rule added with stock nft in the daemon's namespace is applied within 1 s",
            waited is not None and elapsed < 1.0, f"{elapsed:.3f} s")
    c.check("... the rules it left alone kept their counts", counts(daemon, h9, h7) == before,
            (counts(daemon, h9, h7), before))
    r = topo.in_client("echo", 3, ECHO_PORT)
    c.check("... and filters: port 7 no longer echoes", r["ok"] == 0, r)
    gen = daemon.app("echo")["generation"]
    sh("ip", "netns", "exec", daemon.netns, "nft", "add", "rule", "inet", "echo", "input",
       "fib", "daddr", "type", "local", "accept")
    time.sleep(0.5)
    c.check("an nft edit that cannot be lowered is logged and not published",
            "not published" in daemon.log_text() and daemon.app("echo")["generation"] == gen,
            daemon.log_text()[-500:])


def rx_datagrams(daemon, name):
    """UDP datagrams application `name` delivered to its sockets (all queues)."""
    for a in daemon.ctl_json("stats")["apps"]:
        if a["name"] == name:
            return a["total"]["rx_datagrams"]
    return None


def counter_history(daemon, name, timeout=5):
    """`list counters -j` of application `name`, once no replaced generation
    is pending (a queue releases one within a millisecond of its next burst)."""
    deadline = time.time() + timeout
    while True:
        app = next((a for a in daemon.ctl_json("list", "counters")["apps"]
                    if a["name"] == name), None)
        if (app and app["pending_generations"] == 0) or time.time() > deadline:
            return app or {"generations": [], "totals": [], "pending_generations": None,
                           "dropped_generations": None}
        time.sleep(0.05)


def phase_reload_under_traffic(c, topo, daemon):
    a = daemon.rules_file("a.nft", RULES_DROP9)
    b = daemon.rules_file("b.nft", RULES_DROP9_B)
    # A counter is its rule's chain and handle: both files must number the
    # rules every test packet crosses alike for the sums to mean anything.
    handles = []
    for f in (b, a):
        rc, _, err = daemon.ctl("load", f)
        c.check(f"load of {os.path.basename(f)} before the traffic", rc == 0, err)
        text = daemon.ctl_json("list", "ruleset")["ruleset"]
        handles.append((handle_of(text, "udp dport 9"), handle_of(text, "udp dport 7")))
    c.check("a.nft and b.nft give the port 9 and port 7 rules the same handles",
            handles[0] == handles[1] and None not in handles[0], handles)
    h9, h7 = handles[1]
    gen0 = daemon.app("echo")["generation"]
    base9, base7 = counts(daemon, h9, h7)   # what earlier phases left in them
    drops0 = drops(daemon, "echo")
    rx0 = rx_datagrams(daemon, "echo")
    # the stream runs until told to stop (60 s at most), however long the
    # loads take on a busy machine
    client = topo.client_popen("stream", 60)
    reloads, failures = 0, []
    time.sleep(0.3)
    # each generation lives 0.2 s or more while the traffic flows
    while reloads < 12 and client.poll() is None:
        rc, out, err = daemon.ctl("load", b if reloads % 2 == 0 else a)
        reloads += 1
        if rc != 0:
            failures.append(err or out)
        time.sleep(0.2)
    during = reloads if client.poll() is None else 0
    client.send_signal(signal.SIGUSR1)
    out, _ = client.communicate(timeout=60)
    r = json.loads(out.strip().splitlines()[-1])
    drops1 = drops(daemon, "echo")
    rx = rx_datagrams(daemon, "echo") - rx0
    app = daemon.app("echo")
    last = app["generation"]
    c.check(f"{during} reloads while traffic flowed, each applied by the application",
            during >= 12 and not failures and last == gen0 + reloads, (during, failures, app))
    c.check(f"no echo lost to the reloads ({r['got7']} of {r['sent7']})",
            r["sent7"] > 1000 and r["got7"] == r["sent7"] and r["lost7"] == 0, r)
    c.check(f"the server received each echo request once ({rx} datagrams)", rx == r["sent7"],
            (rx, r))
    c.check(f"every datagram to the dropped port was judged and dropped by a generation "
            f"({r['sent9']})", drops1.get("filter", 0) - drops0.get("filter", 0) == r["sent9"],
            (drops0, drops1, r))
    other = {k: v - drops0.get(k, 0) for k, v in drops1.items()
             if k not in ("filter", "eth_dst") and v != drops0.get(k, 0)}
    c.check("no other drops during the reloads", not other, other)

    # Per generation: every packet was judged by exactly one generation, so
    # the generations' counters add up to exactly what the server received.
    hist = counter_history(daemon, "echo")
    gens = {g["generation"]: g for g in hist["generations"] if g["generation"] >= gen0}
    states = {n: g["state"] for n, g in gens.items()}
    want = {n: "final" for n in range(gen0, last)}
    want[last] = "live"
    c.check(f"list counters: generations {gen0}..{last}, final but the live {last}; "
            f"none pending, none dropped",
            states == want and hist["pending_generations"] == 0
            and hist["dropped_generations"] == 0, (states, hist["pending_generations"],
                                                   hist["dropped_generations"]))

    def count(g, handle):
        return sum(k["packets"] for k in g["counters"]
                   if k.get("chain") == "input" and k.get("handle") == handle)
    per7 = {n: count(g, h7) for n, g in sorted(gens.items())}
    per9 = {n: count(g, h9) for n, g in sorted(gens.items())}
    # a.nft and b.nft share those two rules: their counters went on through
    # every reload, so the replaced generations' finals leave them to the live one
    c.check(f"the port 7 and 9 rules counted on through the reloads: 0 in every final, "
            f"all in the live generation ({per7.get(last)}, {per9.get(last)})",
            all(per7[n] == per9[n] == 0 for n in per7 if n != last)
            and per7.get(last, 0) > 1000, (per7, per9))
    c.check(f"port 7 rule over the generations: {sum(per7.values())} = the {rx} datagrams "
            f"the server received + {base7} before", sum(per7.values()) == rx + base7,
            (per7, base7))
    c.check(f"port 9 drop rule over the generations: {sum(per9.values())} = the "
            f"{r['sent9']} datagrams sent to port 9 + {base9} before",
            sum(per9.values()) == r["sent9"] + base9, (per9, base9))
    totals = {(t.get("chain"), t.get("handle")): t for t in hist["totals"]}
    t7 = totals.get(("input", h7), {})
    with7 = [g for g in hist["generations"] if any(
        k.get("chain") == "input" and k.get("handle") == h7 for k in g["counters"])]
    c.check("list counters totals: the port 7 rule's total adds up every generation listed",
            t7.get("generations") == len(with7) >= len(gens)
            and t7.get("packets") == sum(count(g, h7) for g in with7), t7)
    rc, out, err = daemon.ctl("list", "counters")
    c.check("list counters (text): a final row, the live row and a total for the port 7 rule",
            rc == 0 and re.search(rf"^\s+{last - 1}\s+final\s+\d+\s+\d+\s+chain input "
                                  rf"handle {h7}$", out, re.M) is not None
            and re.search(rf"^\s+{last}\s+live\s+\d+\s+\d+\s+chain input handle {h7}$",
                          out, re.M) is not None
            and re.search(rf"^\s+total\s+\d+ gens\s+{t7.get('packets')}\s+\d+\s+chain input "
                          rf"handle {h7}$", out, re.M) is not None, out)

    # the live generation counts exactly what it sees
    before = daemon.counters("echo").get(("input", h9), 0)
    topo.in_client("send", 50, DROP_PORT)
    after = daemon.counters("echo").get(("input", h9), 0)
    c.check("the final generation counted the next 50 exactly", after - before == 50,
            (before, after))


def phase_kill9(c, topo, daemon, args):
    drop7 = daemon.rules_file("drop7.nft", RULES_DROP7)
    rc, _, err = daemon.ctl("load", drop7)
    c.check("load: drop port 7", rc == 0, err)
    r = topo.in_client("echo", 3, ECHO_PORT)
    c.check("port 7 dropped", r["ok"] == 0, r)
    daemon.kill9()
    r = topo.in_client("echo", 5, ECHO_PORT)
    c.check("after kill -9 of fragnetd the last rules keep filtering (no echo)", r["ok"] == 0, r)
    r = topo.in_client("probe", DROP_PORT)
    c.check("... and the application still answers (ICMP for a closed port)",
            r["result"] == "refused", r)
    daemon.start(rules=daemon.rules_file("open.nft", RULES_OPEN))
    t0 = time.time()
    waited = daemon.wait_applied("echo", 1, timeout=15)
    c.check("restarted fragnetd: the application reconnects and applies its generation",
            waited is not None, daemon.log_text()[-500:])
    r = topo.in_client("echo", 5, ECHO_PORT)
    c.check(f"... and the new rules apply: port 7 echoes again "
            f"({time.time() - t0:.1f} s after restart)", r["ok"] == 5, r)


def wait_generation(daemon, name, generation, timeout=15):
    """True once application `name` applies `generation` or a later one."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        a = daemon.app(name)
        if a and a["answered"] and a["generation"] >= generation:
            return True
        time.sleep(0.05)
    return False


def phase_no_table(c, topo, args, daemon):
    """No table for the application: every input packet dropped, unless the
    daemon's configuration says it runs unfiltered (app.NAME.unfiltered)."""
    gen = daemon.app("echo")["generation"] + 1
    rc, out, err = daemon.ctl("load", daemon.rules_file("other.nft", RULES_OTHER))
    c.check("load a ruleset without a table for echo", rc == 0, err)
    wait_generation(daemon, "echo", gen)
    before = drops(daemon, "echo").get("filter", 0)
    r = topo.in_client("echo", 5, ECHO_PORT)
    c.check("no table for it: the application gets nothing (0 of 5 echoed)", r["ok"] == 0, r)
    r = topo.in_client("probe", DROP_PORT)
    c.check("... not even an ICMP answer for a closed port: dropped on input",
            r["result"] == "timeout", r)
    d = drops(daemon, "echo").get("filter", 0)
    c.check("... counted as filter drops (6)", d - before == 6, (before, d))
    rc, out, _ = daemon.ctl("list", "ruleset")
    c.check("list ruleset says so", "or inet fragnet: every input packet dropped" in out, out)
    a = daemon.app("echo")
    c.check("apps: filtered, not UNFILTERED", a["state"] == "filtered" and not a["unfiltered"], a)

    # a table deleted under it, with stock nft in the daemon's namespace
    rc, _, err = daemon.ctl("load", daemon.rules_file("open2.nft", RULES_OPEN))
    wait_generation(daemon, "echo", gen + 1)
    r = topo.in_client("echo", 3, ECHO_PORT)
    c.check("its table back: served (3 of 3)", rc == 0 and r["ok"] == 3, (r, err))
    sh("ip", "netns", "exec", daemon.netns, "nft", "delete", "table", "inet", "echo")
    c.check("table inet echo deleted with nft: a new generation is applied",
            wait_generation(daemon, "echo", gen + 2), daemon.log_text()[-400:])
    r = topo.in_client("echo", 3, ECHO_PORT)
    c.check("... and the application gets nothing (0 of 3), not everything", r["ok"] == 0, r)

    # the administrator's explicit choice
    daemon.stop()
    daemon.extra = "app.echo.unfiltered = yes\n"
    daemon.start(rules=daemon.rules_file("other2.nft", RULES_OTHER))
    ok = wait_generation(daemon, "echo", 1)
    r = topo.in_client("echo", 3, ECHO_PORT)
    c.check("app.echo.unfiltered = yes and no table: served (3 of 3)", ok and r["ok"] == 3, r)
    a = daemon.app("echo")
    rc, out, _ = daemon.ctl("list", "ruleset")
    c.check("... shown as UNFILTERED in apps and list ruleset",
            a["state"] == "UNFILTERED" and a["unfiltered"] and
            "nothing filtered (app.NAME.unfiltered)" in out, (a, out))
    daemon.stop()
    daemon.extra = ""
    daemon.start(rules=daemon.rules_file("open3.nft", RULES_OPEN))
    wait_generation(daemon, "echo", 1)


def phase_unfiltered(c, topo, args, daemon):
    daemon.stop()
    echo = Echo(topo, args.echo, "af_packet", ["--unfiltered"], env=daemon.env)
    started = echo.wait_started(timeout=40)
    c.check("--unfiltered without fragnetd: starts, and says UNFILTERED loudly",
            started and "*** echo runs UNFILTERED" in echo.text(), echo.text()[-400:])
    r = topo.in_client("echo", 3, ECHO_PORT)
    c.check("... and serves unfiltered", r["ok"] == 3, r)
    daemon.start(rules=daemon.rules_file("drop7b.nft", RULES_DROP7))
    waited = daemon.wait_applied("echo", 1, timeout=15)
    a = daemon.app("echo")
    c.check("when fragnetd appears, its rules apply (state filtered, not UNFILTERED)",
            waited is not None and a["unfiltered"] is False, a)
    r = topo.in_client("echo", 3, ECHO_PORT)
    c.check("... port 7 is dropped from then on", r["ok"] == 0, r)
    echo.stop()


def run(args):
    c = Checks()
    daemon = Daemon(args.fragnetd, args.fragnetctl)
    try:
        with Pair("fnc", SUBNET) as topo:
            phase_no_daemon(c, topo, args, daemon)
            daemon.start(rules=daemon.rules_file("drop9.nft", RULES_DROP9))
            echo = Echo(topo, args.echo, "af_packet", env=daemon.env)
            if not c.check("fragnet-echo starts with rules from fragnetd",
                           echo.wait_started(timeout=40),
                           echo.text()[-500:]):
                echo.stop()
                return c.summary()
            try:
                phase_drop_port(c, topo, daemon)
                phase_refused_loads(c, topo, daemon)
                phase_reload_one_changed(c, topo, daemon)
                phase_live_edit(c, topo, daemon)
                phase_reload_under_traffic(c, topo, daemon)
                phase_kill9(c, topo, daemon, args)
                phase_no_table(c, topo, args, daemon)
            finally:
                rc = echo.stop()
            c.check("fragnet-echo exits cleanly", rc == 0, echo.text()[-300:])
            c.check("the application logged losing and finding fragnetd",
                    "lost fragnetd" in echo.text() and "reconnected to fragnetd" in echo.text(),
                    echo.text()[-800:])
            phase_unfiltered(c, topo, args, daemon)
            rc = daemon.stop()
            c.check("fragnetd stops cleanly on SIGTERM", rc == 0, daemon.log_text()[-300:])
    finally:
        daemon.cleanup()
    c.check("no namespace of this test is left", not topo.left(), topo.left())
    return c.summary()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--fragnetd", required=True)
    p.add_argument("--fragnetctl", required=True)
    p.add_argument("--echo", required=True)
    sys.exit(main(p, run, client_main))
