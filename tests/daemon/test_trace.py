#!/usr/bin/env python3
"""`fragnetctl trace` end to end, on test_capture.py's set-up and with its
helpers and clients: a private fragnetd, fragnet-echo (af_packet, two
queues) on a veth pair, kernel clients in the peer namespace, a ruleset with
a jump into a regular chain.

- A packet the filter matches is shown once, with the rules it went through
  in order (the jump, the rule of the chain jumped to, the chain's end, the
  policy), each with its handle and its text from the ruleset, and the final
  verdict with the rule that gave it.
- Packets the filter does not match are not shown, and are echoed as usual.
- The trace ends: the application stops tracing and the next capture works.

  test_trace.py --fragnetd F --fragnetctl C --echo E
"""
import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
sys.path.insert(0, HERE)
from checks import Checks, main  # noqa: E402
from echo import ECHO_PORT, echo_under_rules  # noqa: E402
from fragnetd import Daemon, handle_of  # noqa: E402
from topology import Pair  # noqa: E402
import test_capture as cap  # noqa: E402

CLIENT = os.path.join(HERE, "test_capture.py")   # its clients, for its addresses
TRACED_DPORT = 9

RULES = f"""table inet echo {{
	chain input {{
		type filter hook input priority filter; policy accept;
		udp dport {TRACED_DPORT} jump c1
		udp dport {ECHO_PORT} counter accept
	}}
	chain c1 {{
		udp sport {cap.DROP_SPORT} counter drop
		counter
	}}
	chain output {{
		type filter hook output priority filter; policy accept;
		udp sport {ECHO_PORT} counter accept
	}}
}}
"""


def traces(out):
    """[(header line, [event lines], final verdict line)] of trace output."""
    res = []
    for line in out.splitlines():
        if " trace q" in line:
            res.append([line, [], None])
        elif res and line.startswith("  verdict "):
            res[-1][2] = line.strip()
        elif res and line.startswith("  "):
            res[-1][1].append(line.strip())
    return [tuple(t) for t in res]


def check_paths(c, daemon, topo, h):
    p = cap.start_capture(daemon, "echo", "-c", "2", "udp", "dport", str(TRACED_DPORT),
                          command="trace")
    r = topo.in_client("echo", 3, cap.GOOD_SPORT, ECHO_PORT, script=CLIENT)
    c.check("packets the filter does not match are echoed as usual", r["ok"] == 3, r)
    topo.in_client("send", 1, cap.DROP_SPORT, TRACED_DPORT, script=CLIENT)
    topo.in_client("send", 1, cap.GOOD_SPORT + 3, TRACED_DPORT, script=CLIENT)
    rc, out, err = cap.finish(p)
    t = traces(out)
    c.check("trace -c 2 ends by itself (exit 0) after the two matching packets, and "
            "shows nothing of the others", rc == 0 and len(t) == 2
            and "2 packets traced, 0 dropped by the ring" in err
            and all(f".{TRACED_DPORT}: UDP" in hd and " in " in hd for hd, _, _ in t),
            f"rc={rc} {out} {err}")
    if len(t) != 2:
        return
    dropped = next((x for x in t if f".{cap.DROP_SPORT} > " in x[0]), None)
    passed = next((x for x in t if f".{cap.GOOD_SPORT + 3} > " in x[0]), None)
    jump = (f"input chain input rule handle {h['jump']}: udp dport {TRACED_DPORT} "
            f"jump c1 (verdict jump c1)")
    c.check("dropped in the chain jumped to: the jump, the drop rule with its text, and "
            "the verdict with its rule", dropped is not None and dropped[1] == [
                jump,
                f"input chain c1 rule handle {h['drop']}: udp sport {cap.DROP_SPORT} "
                f"counter drop (verdict drop)"]
            and dropped[2] == f"verdict drop (hook input chain c1 handle {h['drop']})",
            dropped)
    c.check("through the chain and back: the jump, the rule without verdict, the "
            "chain's end, the base chain's end and its policy", passed is not None
            and passed[1] == [
                jump,
                f"input chain c1 rule handle {h['count']}: counter (verdict continue)",
                "input chain c1 end (verdict continue)",
                "input chain input end (verdict continue)",
                "input chain input policy accept"]
            and passed[2] == "verdict accept (hook input chain input policy)", passed)


def check_out(c, daemon, topo, h):
    """A filter on the replies: the out direction's hook."""
    p = cap.start_capture(daemon, "echo", "-c", "1", "udp", "sport", str(ECHO_PORT),
                          command="trace")
    r = topo.in_client("echo", 1, cap.GOOD_SPORT, ECHO_PORT, script=CLIENT)
    rc, out, err = cap.finish(p)
    t = traces(out)
    c.check("a reply is traced on its way out: its output rule and verdict",
            rc == 0 and r["ok"] == 1 and len(t) == 1 and " out " in t[0][0]
            and t[0][1] == [f"output chain output rule handle {h['out']}: udp sport "
                            f"{ECHO_PORT} counter accept (verdict accept)"]
            and t[0][2] == f"verdict accept (hook output chain output handle {h['out']})",
            f"rc={rc} {out} {err}")


def check_after(c, daemon, topo):
    rc, _, err = daemon.ctl("trace", "echo", "-w", "x.pcapng")
    c.check("trace -w: a usage error (exit 2)", rc == 2 and "text only" in err,
            f"rc={rc} {err}")
    p = cap.start_capture(daemon, "echo", "-c", "2")
    r = topo.in_client("echo", 1, cap.GOOD_SPORT, ECHO_PORT, script=CLIENT)
    rc, out, err = cap.finish(p)
    c.check("after the traces, a capture of the application works as before",
            rc == 0 and r["ok"] == 1 and cap.summary(err) == (2, 0)
            and len(out.splitlines()) == 2, f"rc={rc} {out} {err}")


def run(args):
    c = Checks()
    daemon = Daemon(args.fragnetd, args.fragnetctl)
    try:
        with Pair("fnt", cap.SUBNET) as topo, \
                echo_under_rules(c, daemon, topo, args.echo, RULES) as echo:
            if echo is None:
                return c.summary()
            topo.in_client("echo", 3, 0, ECHO_PORT, script=CLIENT)   # ARP settled
            ruleset = daemon.ctl("list", "ruleset")[1]
            h = {
                "jump": handle_of(ruleset, f"udp dport {TRACED_DPORT} jump c1"),
                "drop": handle_of(ruleset, f"udp sport {cap.DROP_SPORT}"),
                "out": handle_of(ruleset, f"udp sport {ECHO_PORT}"),
                "count": next((int(m.group(1)) for m in re.finditer(
                    r"^\s*counter packets \d+ bytes \d+ # handle (\d+)$", ruleset,
                    re.M)), None),
            }
            c.check("the ruleset lists every rule's handle", None not in h.values(), h)
            c.run("chain paths", check_paths, c, daemon, topo, h)
            c.run("out direction", check_out, c, daemon, topo, h)
            c.run("afterwards", check_after, c, daemon, topo)
    finally:
        daemon.cleanup()
    return c.summary()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--fragnetd", required=True)
    p.add_argument("--fragnetctl", required=True)
    p.add_argument("--echo", required=True)
    sys.exit(main(p, run))
