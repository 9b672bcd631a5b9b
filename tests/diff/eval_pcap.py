#!/usr/bin/env python3
"""fragnet-eval on real captures: tcpdump (pcap) and tshark (pcapng) record
the frames a peer namespace sends to the DUT, which runs the same ruleset in
kernel nftables; fragnet-eval must report, for both files, the deciding rule
of every packet so that its tally per rule equals the kernel's counters.

  eval_pcap.py FRAGNET_EVAL
"""
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))

from checks import Checks                    # noqa: E402
from harness import schedule as S            # noqa: E402
from harness.kernel import Kernel            # noqa: E402
from harness.netns import Testbed            # noqa: E402

RULESET = """
table inet fragnet {
	chain prerouting {
		type filter hook prerouting priority 0; policy accept;
		ip saddr 10.1.2.3 counter drop
		counter
	}
	chain input {
		type filter hook input priority 0; policy accept;
		udp dport 53 counter drop
		udp dport 4000 counter accept
		meta l4proto tcp counter reject
		counter
	}
	chain output {
		type filter hook output priority 0; policy drop;
	}
}
"""
# The output chain keeps the DUT silent (no ICMP errors, no resets), so the
# captures hold the frames the peer sent and ARP only. The last rule of
# each chain is a bare `counter`: it counts what the chain policy decided.

SCHEDULE = """
in udp dport=53
in udp dport=4000 x=2
in udp dport=9 len=100
in udp src=10.1.2.3 dport=53
in tcp dport=80
in udp len=64 dport=53 frag=32
in udp len=120 dport=4000 frag=48,40 order=2,0,1
in icmp type=8
"""


def capture(bed, cmd, path, ready):
    """Start a capturer in the DUT namespace; returns the process once it
    has said `ready` on stderr."""
    p = subprocess.Popen(["ip", "netns", "exec", bed.dut] + cmd + [path],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    line = ""
    while time.monotonic() < deadline:
        line = p.stderr.readline()
        if ready in line:
            time.sleep(2)       # tshark says so before dumpcap is capturing
            return p
        if not line and p.poll() is not None:
            break
    p.kill()
    raise RuntimeError("%s did not start: %s" % (cmd[0], line))


def stop(p):
    p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def tally(report):
    """{(chain, handle): packets decided there} from fragnet-eval -j."""
    t = collections.Counter()
    for pk in report["packets"]:
        for h in pk.get("hooks", []):
            t[(h["chain"], h["handle"])] += 1
    return t


def main():
    exe = sys.argv[1]
    c = Checks()
    with tempfile.TemporaryDirectory() as tmp, Testbed("e") as bed:
        k = Kernel(bed)
        try:
            k.load(RULESET)
            ruleset = os.path.join(tmp, "rules.nft")
            with open(ruleset, "w") as f:
                f.write(RULESET)
            files = {"tcpdump": os.path.join(tmp, "in.pcap"),
                     "tshark": os.path.join(tmp, "in.pcapng")}
            procs = [capture(bed, ["tcpdump", "-U", "-n", "-i", "fnd0", "-w"], files["tcpdump"],
                             "listening on"),
                     capture(bed, ["tshark", "-n", "-i", "fnd0", "-F", "pcapng", "-w"],
                             files["tshark"], "Capturing on")]
            steps = S.parse(SCHEDULE.splitlines())
            for step in steps:
                k.send(step)
            time.sleep(1)
            for p in procs:
                stop(p)
            listing = k.listing("inet", "fragnet")
            counters = k.counters(listing)
            policy_counter = {}
            for item in listing["nftables"]:
                if "rule" in item:
                    policy_counter[item["rule"]["chain"]] = item["rule"]["handle"]
        finally:
            k.close()
        for tool, path in files.items():
            with open(path, "rb") as f:
                magic = f.read(4)
            fmt = "pcapng" if magic == b"\x0a\x0d\x0d\x0a" else "pcap"
            r = subprocess.run([exe, "-j", ruleset, path], capture_output=True, text=True,
                               timeout=120)
            text = subprocess.run([exe, ruleset, path], capture_output=True, text=True, timeout=120)
            if not c.check(f"{tool}: fragnet-eval reads the {fmt} file (text and JSON)",
                           r.returncode == 0 and text.returncode == 0, r.stderr.strip()):
                continue
            report = json.loads(r.stdout)
            got = tally(report)
            lines = [l for l in text.stdout.splitlines() if l.split()[1] != "-"]
            print("%s wrote %s: %d frames, %d hook verdicts" %
                  (tool, fmt, len(report["packets"]), sum(got.values())))
            evaluated = [p for p in report["packets"] if "hooks" in p]
            c.check(f"{tool}: the {len(steps)} IPv4 packets sent are in the capture",
                    len(evaluated) == len(steps), f"{len(evaluated)} found")
            c.check(f"{tool}: text and JSON give the same hook verdicts",
                    len(lines) == sum(got.values()),
                    f"text {len(lines)}, JSON {sum(got.values())}")
            wrong = []
            for (chain, handle), (pkts, _) in sorted(counters.items(), key=str):
                if chain in ("counter", "quota"):
                    continue
                key = (chain, 0) if policy_counter.get(chain) == handle else (chain, handle)
                if got.get(key, 0) != pkts:
                    wrong.append("%s handle %d: fragnet-eval %d packets, kernel %d" %
                                 (chain, key[1], got.get(key, 0), pkts))
            c.check(f"{tool}: the tally per rule equals the kernel's counters", not wrong,
                    "; ".join(wrong))
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
