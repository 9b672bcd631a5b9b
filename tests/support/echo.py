"""fragnet-echo (examples/echo.c) as the server of an end-to-end test: started
in a Pair's server namespace on DPDK ports over the server end of the veth,
stopped with SIGTERM, its exit report read back."""
import contextlib
import subprocess
import time

from process import stop_process

ECHO_PORT = 7


class Echo:
    """fragnet-echo serving UDP port 7 at the topology's server address.
    args: more fragnet-echo options (--unfiltered, --rules IMAGE, ...);
    env: its environment (FRAGNET_DAEMON_SOCKET of a test's fragnetd)."""

    def __init__(self, topo, exe, pmd, args=(), env=None):
        ports = topo.dpdk_ports(pmd)
        cmd = [exe] + [w for p in ports for w in ("--port", p)]
        if pmd == "af_packet":
            cmd += ["--queues", str(topo.queues)]
        cmd += ["--addr", topo.server_cidr, "--udp-port", str(ECHO_PORT)] + list(args)
        # ip netns exec gives a private /sys without bpffs; libxdp wants it.
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", topo.server_ns, "sh", "-c",
             'mount -t bpf bpf /sys/fs/bpf 2>/dev/null; exec "$@"', "echo"] + cmd,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.output = []

    def wait_started(self, timeout=30):
        """True once it says it is echoing; False if it exits or takes longer."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if "echoing on" in line:
                return True
        return False

    def start(self, timeout=30):
        """wait_started(), or stop it and raise with what it said."""
        if not self.wait_started(timeout):
            self.stop()
            raise RuntimeError("fragnet-echo did not start:\n" + self.text())
        return self

    def text(self):
        return "".join(self.output)

    def stop(self):
        rc, out = stop_process(self.proc)
        self.output.append(out)
        return rc

    def stats(self):
        return exit_stats(self.text())


@contextlib.contextmanager
def echo_under_rules(c, daemon, topo, exe, rules):
    """fragnetd (a tests/support/fragnetd.py Daemon) started with the ruleset
    `rules`, fragnet-echo on af_packet registered with it and its rules
    applied: yields the Echo, or None when it did not start (a failed check
    of `c`). On leaving, fragnet-echo stops (checked: exit status 0), then
    fragnetd."""
    daemon.start(rules=daemon.rules_file("rules.nft", rules))
    echo = Echo(topo, exe, "af_packet", env=daemon.env)
    if not c.check("fragnet-echo starts with rules from fragnetd",
                   echo.wait_started(timeout=40), echo.text()[-500:]):
        echo.stop()
        yield None
        return
    try:
        daemon.wait_applied("echo", 1, timeout=15)
        yield echo
    finally:
        rc = echo.stop()
    c.check("fragnet-echo exits cleanly", rc == 0, echo.text()[-500:])
    daemon.stop()


def exit_stats(text):
    """{queue: {"in": n, "drops": {reason: n}}} from fragnet-echo's exit
    report in its output `text`."""
    res = {}
    for line in text.splitlines():
        if not line.startswith("queue "):
            continue
        q = int(line.split()[1].rstrip(":"))
        din = int(line.split("datagrams in ")[1].split()[0])
        drops = dict(kv.split("=") for kv in line.split("drops:")[1].split())
        res[q] = {"in": din, "drops": {k: int(v) for k, v in drops.items()}}
    return res
