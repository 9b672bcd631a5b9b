"""A private fragnetd for tests: its own config, socket and compile namespace
under names derived from the test's pid (namespaces start with "fnc"), so it
never meets the real /run/fragnet or another test. Everything it creates is
removed by name."""
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import time

from process import stop_process


class Daemon:
    def __init__(self, fragnetd, fragnetctl, tag=None, extra_config=""):
        tag = tag or f"fnc{os.getpid()}d"
        self.fragnetd, self.fragnetctl = fragnetd, fragnetctl
        self.dir = tempfile.mkdtemp(prefix="fragnetd-test-")
        os.chmod(self.dir, 0o755)  # other uids must reach the socket
        self.socket = os.path.join(self.dir, "fragnetd.sock")
        self.config = os.path.join(self.dir, "fragnetd.conf")
        self.netns = tag
        self.extra = extra_config
        self.proc = None
        self.log_path = os.path.join(self.dir, "fragnetd.log")
        self.env = dict(os.environ, FRAGNET_DAEMON_SOCKET=self.socket)

    def rules_file(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def write_config(self, rules=None):
        with open(self.config, "w") as f:
            f.write(f"socket = {self.socket}\nnetns = {self.netns}\n")
            if rules:
                f.write(f"rules = {rules}\n")
            f.write(self.extra)

    def start(self, rules=None, wait=True, env=None, netns=None, nofile=None, wrap=()):
        """netns: run it in that network namespace (nsenter, not ip netns
        exec: it keeps the host's /sys, whose bpffs holds its XDP pins).
        nofile: its RLIMIT_NOFILE (soft and hard).
        wrap: a command that runs it (setpriv ..., to drop privileges)."""
        self.write_config(rules)
        self.log = open(self.log_path, "a")
        offset = self.log.tell()  # an earlier run's lines are in the log too
        cmd = list(wrap) + [self.fragnetd, "-c", self.config]
        if netns:
            cmd = ["nsenter", f"--net=/run/netns/{netns}"] + cmd
        limit = (lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))) \
            if nofile else None
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=limit)
        if wait:
            deadline = time.time() + 20
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError("fragnetd exited:\n" + self.log_text())
                if "ready on" in self.log_text()[offset:]:
                    return self
                time.sleep(0.05)
            raise RuntimeError("fragnetd did not become ready:\n" + self.log_text())
        return self

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return None
        rc, _ = stop_process(self.proc)
        self.proc = None
        self.log.close()
        return rc

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None
        self.log.close()

    def ctl(self, *args, timeout=60):
        """fragnetctl: (exit status, stdout, stderr)."""
        r = subprocess.run([self.fragnetctl, "-s", self.socket] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr

    def ctl_json(self, *args):
        rc, out, err = self.ctl("-j", *args)
        if rc != 0:
            raise RuntimeError(f"fragnetctl {' '.join(args)}: exit {rc}: {err}")
        return json.loads(out)

    def app(self, name):
        for a in self.ctl_json("apps")["apps"]:
            if a["name"] == name:
                return a
        return None

    def wait_applied(self, name, generation, timeout=10):
        """Seconds until application `name` applies `generation`, or None."""
        start = time.time()
        while time.time() - start < timeout:
            a = self.app(name)
            if a and a["generation"] >= generation and a["state"] == "filtered":
                return time.time() - start
            time.sleep(0.02)
        return None

    def counters(self, name):
        """{(chain, handle): packets} of application `name`'s current generation."""
        for a in self.ctl_json("list", "ruleset")["apps"]:
            if a["name"] == name:
                return {(c.get("chain"), c.get("handle")): c["packets"] for c in a["counters"]}
        return {}

    def cleanup(self):
        if self.proc is not None:
            self.stop()
        # the daemon removes a namespace it made; one it adopted stays: remove it here
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def handle_of(ruleset_text, fragment):
    """The handle of the first rule in `fragnetctl list ruleset` text that
    contains `fragment`, or None."""
    for line in ruleset_text.splitlines():
        if fragment in line:
            m = re.search(r"# handle (\d+)", line)
            if m:
                return int(m.group(1))
    return None
