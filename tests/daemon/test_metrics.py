#!/usr/bin/env python3
"""`fragnetctl stats --format prometheus` end to end: a private fragnetd,
fragnet-echo (af_packet, two queues) on a veth pair, kernel clients in the
peer namespace. The output is read by prometheus_client's own text parser
(Debian's python3-prometheus-client); every family must be documented in
docs/metrics.md with its type and labels, the numbers must be those of
`stats -j` and `list ruleset -j`, and they must grow by exactly the traffic
sent between two scrapes.

  test_metrics.py --fragnetd F --fragnetctl C --echo E --docs docs/metrics.md
"""
import argparse
import json
import os
import re
import socket
import sys
import time

from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import Checks, main  # noqa: E402
from echo import ECHO_PORT, echo_under_rules  # noqa: E402
from fragnetd import Daemon, handle_of  # noqa: E402
from topology import Pair  # noqa: E402

SUBNET = "10.98.0"
SERVER_ADDR = f"{SUBNET}.1"
DROP_PORT = 9

RULES = """table inet echo {
	counter echoes { }
	chain input {
		type filter hook input priority filter; policy accept;
		udp dport 9 counter drop
		udp dport 7 counter counter name "echoes" accept
	}
}
"""


def client_echo(count, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    ok = 0
    for i in range(count):
        s.sendto(b"m%d" % i, (SERVER_ADDR, port))
        try:
            ok += s.recvfrom(2048)[0] == b"m%d" % i
        except socket.timeout:
            pass
    return {"ok": ok}


def client_send(count, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(count):
        s.sendto(b"x", (SERVER_ADDR, port))
        time.sleep(0.001)
    return {"sent": count}


def client_main(argv):
    cmd, args = argv[0], [int(a) for a in argv[1:]]
    print(json.dumps({"echo": client_echo, "send": client_send}[cmd](*args)))


def documented(path):
    """{name: (type, labels)} from the tables of docs/metrics.md: rows of
    | `name` | type | labels | ... |."""
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"\|\s*`([a-z_]+)`\s*\|\s*(counter|gauge)\s*\|([^|]*)\|", line)
            if m:
                out[m.group(1)] = (m.group(2), set(re.findall(r"`([a-z_]+)`", m.group(3))))
    return out


def scrape(daemon):
    """(text, {family name as written: (type, [samples])}) of one scrape."""
    rc, out, err = daemon.ctl("stats", "--format", "prometheus")
    if rc != 0:
        raise RuntimeError(f"stats --format prometheus: exit {rc}: {err}\n"
                           + daemon.log_text()[-2000:])
    fams = {}
    for f in text_string_to_metric_families(out):
        # the parser names a counter's family without _total; its samples keep it
        name = f.name + "_total" if f.type == "counter" else f.name
        fams[name] = (f.type, f.samples)
    return out, fams


def value(fams, name, **labels):
    """The one sample of name whose labels include labels (None if none)."""
    found = [s.value for s in fams.get(name, (None, []))[1]
             if all(s.labels.get(k) == str(v) for k, v in labels.items())]
    if len(found) > 1:
        raise RuntimeError(f"{name} {labels}: {len(found)} samples")
    return found[0] if found else None


def per_queue(fams, name, app):
    return {int(s.labels["queue"]): s.value for s in fams[name][1]
            if s.labels["app"] == app}


def check_format(c, daemon, text, fams, docs):
    c.check("the parser reads every family (HELP and TYPE before the samples)",
            len(fams) > 0 and text.count("# TYPE ") == len(fams), text[:400])
    c.check("every family is documented in docs/metrics.md, and every documented one is printed",
            set(fams) == set(docs), (sorted(set(fams) ^ set(docs))))
    wrong = [n for n, (t, _) in fams.items() if n in docs and docs[n][0] != t]
    c.check("... with the documented type", not wrong, wrong)
    # the documented labels, for every sample (nth: a rule's second counter on)
    bad = [(n, s.labels) for n, (_, ss) in fams.items() for s in ss
           if n in docs and set(s.labels) - {"nth"} != docs[n][1]]
    c.check("... and exactly the documented labels on every sample", not bad, bad[:5])
    c.check("counters end in _total, gauges do not",
            all(n.endswith("_total") == (t == "counter") for n, (t, _) in fams.items()),
            [(n, t) for n, (t, _) in fams.items()])
    rc, out, err = daemon.ctl("apps", "--format", "prometheus")
    c.check("--format prometheus with another command: a usage error (exit 2)",
            rc == 2 and "stats only" in err, f"rc={rc} {err}")
    rc, out, err = daemon.ctl("stats", "--format", "yaml")
    c.check("--format yaml: a usage error (exit 2)", rc == 2 and "yaml" in err, f"rc={rc} {err}")


def check_match_json(c, daemon, fams):
    """The same numbers as the JSON of stats and list ruleset. Echo is idle
    meanwhile, so both queries see the same counts."""
    stats = daemon.ctl_json("stats")
    c.check("fragnetd_generation is the stats generation",
            value(fams, "fragnetd_generation") == stats["generation"],
            (value(fams, "fragnetd_generation"), stats["generation"]))
    c.check("fragnetd_applications counts the one application",
            value(fams, "fragnetd_applications") == len(stats["apps"]) == 1)
    c.check("fragnetd_connections: at least this query's own, and accepted >= open",
            1 <= value(fams, "fragnetd_connections")
            <= value(fams, "fragnetd_connections_accepted_total"))
    a = stats["apps"][0]
    pid = a["pid"]
    c.check("fragnet_app_info: app, pid, uid and state as labels",
            value(fams, "fragnet_app_info", app="echo", pid=pid, uid=a["uid"],
                  state="filtered") == 1, fams["fragnet_app_info"])
    c.check("fragnet_app_generation and _queues as in stats -j",
            value(fams, "fragnet_app_generation", app="echo") == a["generation"]
            and value(fams, "fragnet_app_queues", app="echo") == a["queues"] == 2)
    for key in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "rx_datagrams",
                "tx_datagrams", "drops", "link_down"):
        want = {q["queue"]: q[key] for q in a["queue_stats"]}
        got = per_queue(fams, f"fragnet_queue_{key}_total", "echo")
        c.check(f"fragnet_queue_{key}_total per queue as stats -j", got == want, (got, want))
    reasons = {}
    for q in a["queue_stats"]:
        for r, n in q["drops_by_reason"].items():
            reasons[(q["queue"], r)] = n
    got = {(int(s.labels["queue"]), s.labels["reason"]): s.value
           for s in fams["fragnet_queue_drops_by_reason_total"][1]}
    c.check("fragnet_queue_drops_by_reason_total as stats -j drops_by_reason",
            got == reasons and sum(v for (q, r), v in got.items() if r == "filter") > 0,
            (got, reasons))
    listing = daemon.ctl_json("list", "ruleset")
    rs = listing["apps"][0]
    rules = {(x["chain"], x["handle"]): x for x in rs["counters"] if "chain" in x}
    got = {(s.labels["chain"], int(s.labels["handle"])): s.value
           for s in fams["fragnet_rule_packets_total"][1]}
    c.check("fragnet_rule_packets_total by chain and handle as list ruleset -j",
            got == {k: x["packets"] for k, x in rules.items()} and len(got) == 2, (got, rules))
    got = {(s.labels["chain"], int(s.labels["handle"])): s.value
           for s in fams["fragnet_rule_bytes_total"][1]}
    c.check("fragnet_rule_bytes_total as well",
            got == {k: x["bytes"] for k, x in rules.items()}, got)
    c.check("the rules' table (family and name) is a label",
            all(s.labels["table"] == "inet echo" for s in fams["fragnet_rule_packets_total"][1]),
            fams["fragnet_rule_packets_total"][1])
    objs = {x["object"]: x["packets"] for x in rs["counters"] if "object" in x}
    c.check("fragnet_counter_packets_total: the named counter as list ruleset -j",
            value(fams, "fragnet_counter_packets_total", object="echoes") == objs.get("echoes")
            and objs.get("echoes", 0) > 0, (fams["fragnet_counter_packets_total"], objs))
    return listing["ruleset"]


def check_busy_idle(c, daemon, fams):
    """Busy time: as stats -j's busy_ns, in seconds; some for every queue
    that received, none for one that did not; and none added while idle."""
    stats = daemon.ctl_json("stats")
    want = {q["queue"]: q["busy_ns"] / 1e9 for q in stats["apps"][0]["queue_stats"]}
    got = per_queue(fams, "fragnet_queue_busy_seconds_total", "echo")
    c.check("fragnet_queue_busy_seconds_total per queue as stats -j busy_ns / 1e9",
            got.keys() == want.keys() and all(abs(got[q] - want[q]) < 1e-9 for q in got),
            (got, want))
    rx = per_queue(fams, "fragnet_queue_rx_packets_total", "echo")
    c.check("a queue that received packets was busy, one that did not was not",
            all((rx[q] > 0) == (got[q] > 0) for q in rx) and any(rx.values()), (rx, got))
    time.sleep(0.5)   # the lcores poll (spin, then sleep) with nothing to do
    _, idle = scrape(daemon)
    rx2 = per_queue(idle, "fragnet_queue_rx_packets_total", "echo")
    busy2 = per_queue(idle, "fragnet_queue_busy_seconds_total", "echo")
    c.check("idle half a second: no queue's busy time grew",
            all(busy2[q] == got[q] for q in got if rx2[q] == rx[q]) and rx2 == rx,
            (rx, rx2, got, busy2))


def check_busy_traffic(c, before, after, wall):
    """Traffic adds busy time, no more than the wall time it took."""
    b0 = per_queue(before, "fragnet_queue_busy_seconds_total", "echo")
    b1 = per_queue(after, "fragnet_queue_busy_seconds_total", "echo")
    grew = {q: b1[q] - b0[q] for q in b0}
    c.check("traffic: some queue's busy time grew, none by more than the wall time",
            any(g > 0 for g in grew.values()) and all(0 <= g <= wall for g in grew.values()),
            (grew, wall))


def run(args):
    c = Checks()
    docs = documented(args.docs)
    c.check("docs/metrics.md documents metrics", len(docs) >= 20, docs)
    daemon = Daemon(args.fragnetd, args.fragnetctl)
    try:
        # IPv6 off: no router solicitations or MLD reports from the kernel
        # (dropped as eth_dst) between the queries compared exactly below.
        with Pair("fnm", SUBNET, ipv6=False) as topo, \
                echo_under_rules(c, daemon, topo, args.echo, RULES) as echo:
            if echo is None:
                return c.summary()
            r = topo.in_client("echo", 10, ECHO_PORT)
            topo.in_client("send", 5, DROP_PORT)
            c.check("traffic: 10 echoes", r["ok"] == 10, r)
            text, before = scrape(daemon)
            check_format(c, daemon, text, before, docs)
            ruleset = check_match_json(c, daemon, before)
            check_busy_idle(c, daemon, before)
            t0 = time.monotonic()
            h7, h9 = handle_of(ruleset, "udp dport 7"), handle_of(ruleset, "udp dport 9")

            r = topo.in_client("echo", 20, ECHO_PORT)
            topo.in_client("send", 7, DROP_PORT)
            c.check("more traffic: 20 echoes", r["ok"] == 20, r)
            _, after = scrape(daemon)
            check_busy_traffic(c, before, after, time.monotonic() - t0)

            def grew(name, **labels):
                return value(after, name, **labels) - value(before, name, **labels)

            c.check("the port 7 rule's packets grew by exactly 20",
                    grew("fragnet_rule_packets_total", chain="input", handle=h7) == 20)
            c.check("the port 9 rule's packets grew by exactly 7",
                    grew("fragnet_rule_packets_total", chain="input", handle=h9) == 7)
            c.check("the named counter grew by exactly 20",
                    grew("fragnet_counter_packets_total", object="echoes") == 20)
            rxd = sum(per_queue(after, "fragnet_queue_rx_datagrams_total", "echo").values()) \
                - sum(per_queue(before, "fragnet_queue_rx_datagrams_total", "echo").values())
            txd = sum(per_queue(after, "fragnet_queue_tx_datagrams_total", "echo").values()) \
                - sum(per_queue(before, "fragnet_queue_tx_datagrams_total", "echo").values())
            c.check("datagrams in grew by 20 (the dropped 7 never reach the application)",
                    rxd == 20, rxd)
            c.check("datagrams out grew by 20", txd == 20, txd)
            filt = sum(s.value for s in after["fragnet_queue_drops_by_reason_total"][1]
                       if s.labels["reason"] == "filter") \
                - sum(s.value for s in before["fragnet_queue_drops_by_reason_total"][1]
                      if s.labels["reason"] == "filter")
            c.check("filter drops grew by exactly 7", filt == 7, filt)
            for fam in ("fragnet_queue_rx_packets_total", "fragnet_queue_rx_bytes_total",
                        "fragnet_queue_tx_packets_total", "fragnet_queue_tx_bytes_total"):
                d = sum(per_queue(after, fam, "echo").values()) \
                    - sum(per_queue(before, fam, "echo").values())
                c.check(f"{fam} grew", d > 0, d)
    finally:
        daemon.cleanup()
    c.check("no namespace of this test is left", not topo.left(), topo.left())
    return c.summary()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--fragnetd", required=True)
    p.add_argument("--fragnetctl", required=True)
    p.add_argument("--echo", required=True)
    p.add_argument("--docs", required=True)
    sys.exit(main(p, run, client_main))
