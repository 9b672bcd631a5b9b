"""The interpreter side: the fn-diff-driver program (compiler + interpreter
through their C API) run as a child, one line per hook evaluation."""
import os
import subprocess
import tempfile


class CompileError(RuntimeError):
    pass


class HookResult:
    """One hook as the interpreter ran it: what went in, what it decided,
    what came out."""
    __slots__ = ("hook", "verdict", "chain", "handle", "l3_in", "mark_in", "iif", "oif",
                 "l3_out", "mark_out", "ct_out", "honest", "excused")

    def __init__(self):
        # Set where this is a prediction of a kernel bug (harness/quirk.py):
        # the interpreter's own result, and the counters the kernel moves
        # beyond it {key: (packets, bytes)}.
        self.honest = None
        self.excused = None


class Driver:
    def __init__(self, exe, ruleset_path, netns, app, xdp=False):
        """xdp: kernel enforcement, the ruleset's XDP program first (see
        steer())."""
        self.err = tempfile.TemporaryFile()
        # frames through the kernel part: dropped there, fully judged
        # there, resumed in the interpreter, handed over unjudged
        self.kernel_outcomes = {"drop": 0, "judged": 0, "resumed": 0, "unjudged": 0}
        env = dict(os.environ, TZ="UTC")
        self.proc = subprocess.Popen([exe, "--netns", netns, "--app", app] +
                                     (["--xdp"] if xdp else []) + [ruleset_path],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True, env=env)
        first = self.proc.stdout.readline().strip()
        if first != "ready":
            self.err.seek(0)
            stderr = self.err.read().decode(errors="replace").strip()
            self.close()
            raise CompileError(((first or "driver exited") + " " + stderr).strip())

    def _ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            self.err.seek(0)
            raise RuntimeError("driver died: " + self.err.read().decode(errors="replace")[-2000:])
        return reply.strip()

    def eval(self, hook, cpu, pkttype, mark, ct, iif, iifname, oif, oifname, l2, l3):
        reply = self._ask(self._line("eval", hook, cpu, pkttype, mark, ct, iif, iifname,
                                     oif, oifname, l2, l3))
        return self._result(reply, "ok", hook, l3, mark, iif, oif)

    def evalk(self, hook, cpu, pkttype, mark, ct, iif, iifname, oif, oifname, l2, l3):
        """What a kernel with the payload fast path bug does at this hook
        (harness/quirk.py), the interpreter's own result, and what the first
        counted beyond the second {key: (packets, bytes)}. The interpreter's
        state carries on from what the kernel did."""
        reply = self._ask(self._line("evalk", hook, cpu, pkttype, mark, ct, iif, iifname,
                                     oif, oifname, l2, l3))
        kernel = self._result(reply, "ok", hook, l3, mark, iif, oif)
        honest = self._result(self._read().strip(), "honest", hook, l3, mark, iif, oif)
        extra = {}
        while True:
            w = self._read().split()
            if w[0] == "end":
                return kernel, honest, extra
            if w[0] == "delta":
                key = (w[1], int(w[2]))
                p, b = extra.get(key, (0, 0))
                extra[key] = (p + int(w[3]), b + int(w[4]))
            elif w[0] == "dnamed":
                extra[("counter", w[1])] = (int(w[2]), int(w[3]))
            else:
                raise RuntimeError("driver: " + " ".join(w))

    def steer(self, l2, l3):
        """Run the frame through the kernel part; its prerouting and input
        evaluations that follow resume where the kernel part stopped."""
        reply = self._ask("xdp %s %s" % (l2.hex(), l3.hex()))
        w = reply.split()
        if w[0] != "xdp":
            raise RuntimeError("driver: " + reply)
        hook = int(w[2])
        self.kernel_outcomes["drop" if w[1] == "drop" else "resumed" if hook < 2 else
                             "judged" if hook == 0xfe else "unjudged"] += 1
        return reply

    @staticmethod
    def _line(cmd, hook, cpu, pkttype, mark, ct, iif, iifname, oif, oifname, l2, l3):
        return "%s %s %d %d %d %d %d %s %d %s %s %s" % (
            cmd, hook, cpu, pkttype, mark, ct, iif, iifname or "-", oif, oifname or "-",
            l2.hex() if l2 else "-", l3.hex())

    @staticmethod
    def _result(reply, tag, hook, l3, mark, iif, oif):
        w = reply.split()
        if w[0] != tag or len(w) != 7:
            raise RuntimeError("driver: " + reply)
        r = HookResult()
        r.hook, r.l3_in, r.mark_in, r.iif, r.oif = hook, l3, mark, iif, oif
        r.verdict = w[1]
        r.chain = None if w[2] == "-" else w[2]
        r.handle = int(w[3])
        r.mark_out = int(w[4])
        r.ct_out = int(w[5])
        r.l3_out = bytes.fromhex(w[6])
        return r

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            self.err.seek(0)
            raise RuntimeError("driver died: " + self.err.read().decode(errors="replace")[-2000:])
        return line

    def counters(self):
        self.proc.stdin.write("counters\n")
        self.proc.stdin.flush()
        out = {}
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("driver died while listing counters")
            w = line.split()
            if w[0] == "end":
                return out
            if w[0] == "named":
                out[("counter", w[1])] = (int(w[2]), int(w[3]))
                continue
            if w[0] != "counter":
                raise RuntimeError("driver: " + line)
            key = (w[1], int(w[2]))
            p, b = out.get(key, (0, 0))
            out[key] = (p + int(w[3]), b + int(w[4]))

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()
