#!/usr/bin/env python3
"""Kernel differential test of the nftables interpreter.

For every ruleset of the corpus: load it into kernel nftables in a throwaway
network namespace, send its packet schedule through it (frames injected
from a peer namespace over a veth for the input hooks, IP_HDRINCL sends
inside the namespace for the output hooks), and read per packet the verdict
and deciding rule of every hook (nft trace) and every rule counter. Run the
same packets through the interpreter (fn-diff-driver) and require the same
hooks, verdicts, deciding rules, packet rewrites, marks and counters.

  diff_corpus.py [--driver PATH] [--xdp] [--only NAME] [-v] CORPUS_DIR|FILE...

Without --driver only the harness's own model of the kernel path is checked
against the kernel (exit 77 afterwards: the differential itself did not run).
With it, the running kernel is first probed for a known bug of its payload
fast path (harness/quirk.py: transport loads read non-first fragments); where
it has the bug, packets on which the kernel does exactly what the bug
predicts are reported as excused, not failed.
With --xdp (kernel enforcement, issue E) every inbound frame the steering
program would hand to the application (for this host, not a fragment) goes
through the ruleset's generated XDP program first, and the interpreter
resumes where it stopped; the comparison is the same.
Corpus files: nft text, with `#>` schedule lines (harness/schedule.py) and
optionally `#! xfail: REASON` for a known, explained divergence, and
`#! icmp-replies` where every reject must be seen answering with an ICMP
error (captured at the DUT's output; its type and code are always compared
with the interpreter's reject verdict when there is one). Placeholders
@DAY@ @OTHERDAY@ @HOUR_IN@ @HOUR_OUT@ are replaced by values around the
current time (UTC) so that time rules decide the same way every run.
Needs root. Ends with the line `diff: N passed, N failed`, followed on the
same line by how many packets were excused as the known kernel bug when the
kernel has it.
"""
import argparse
import datetime
import os
import re
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import compare as C          # noqa: E402
from harness import kernel as KN          # noqa: E402
from harness import quirk as Q            # noqa: E402
from harness import schedule as S         # noqa: E402
from harness.interp import CompileError, Driver  # noqa: E402
from harness.model import PathModel       # noqa: E402
from harness.netns import Testbed         # noqa: E402

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def placeholders(now):
    """Time values that decide the same way for the next hour (until
    midnight at the latest)."""
    def hm(minutes):
        minutes = max(0, min(minutes, 24 * 60 - 1))
        return '"%02d:%02d"' % (minutes // 60, minutes % 60)
    m = now.hour * 60 + now.minute
    if m >= 120:
        hour_out = "%s-%s" % (hm(0), hm(m - 90))
    else:
        hour_out = "%s-%s" % (hm(m + 90), hm(m + 150))
    return {
        "@DAY@": '"%s"' % DAYS[now.weekday()],
        "@OTHERDAY@": '"%s"' % DAYS[(now.weekday() + 3) % 7],
        "@HOUR_IN@": "%s-%s" % (hm(m - 60), hm(m + 60)),
        "@HOUR_OUT@": hour_out,
    }


class Corpus:
    def __init__(self, path):
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        with open(path) as f:
            self.raw = f.read()
        self.schedule = [l[2:] for l in self.raw.splitlines() if l.startswith("#>")]
        m = re.search(r"^#!\s*xfail:\s*(.+)$", self.raw, re.M)
        self.xfail = m.group(1).strip() if m else None
        self.icmp_replies = re.search(r"^#!\s*icmp-replies\s*$", self.raw, re.M) is not None
        m = re.search(r"^\s*table\s+(inet|ip)\s+(\S+)", self.raw, re.M)
        if not m:
            raise ValueError("%s: no ip/inet table" % path)
        self.family, self.table = m.group(1), m.group(2)

    def text(self, now):
        t = self.raw
        for k, v in placeholders(now).items():
            t = t.replace(k, v)
        return t


class Outcome:
    def __init__(self, name):
        self.name = name
        self.problems = []     # (step index, step text, kind, text)
        self.excused = []      # (step index, step text, text): known kernel bug
        self.steps = 0
        self.hooks = 0
        self.kernel = None     # kernel enforcement: what its part did
        self.error = None


def run_one(corpus, driver_exe, verbose, fast_path_bug=False, xdp=False):
    out = Outcome(corpus.name)
    now = datetime.datetime.now(datetime.timezone.utc)
    text = corpus.text(now)
    steps = S.parse(corpus.schedule)
    with tempfile.NamedTemporaryFile("w", suffix=".nft") as rf, Testbed("x") as bed:
        rf.write(text)
        rf.flush()
        k = KN.Kernel(bed)
        drv = None
        try:
            k.load(text)
            info = C.RulesetInfo(k.listing(corpus.family, corpus.table))
            info.check_priorities()
            if driver_exe:
                drv = Driver(driver_exe, rf.name, bed.twin, corpus.table, xdp=xdp)
            quirk = Q.FastPathQuirk(drv) if drv and fast_path_bug else None
            model = PathModel(info.conntrack, steer=drv.steer if drv and xdp else None)
            for i, step in enumerate(steps):
                if isinstance(step, S.Sleep):
                    time.sleep(step.seconds)
                    continue
                if isinstance(step, S.Settle):
                    k.settle(corpus.family, corpus.table, step)
                    continue
                out.steps += 1
                events = k.send(step)
                ktrav = KN.split_traversals(events, corpus.table)
                if quirk:
                    evaluate = quirk.evaluate
                else:
                    evaluate = drv.eval if drv else C.KernelOracle(info, ktrav)
                ihooks = model.run(step, evaluate)
                out.hooks += len(ihooks)
                problems = C.compare_step(info, ktrav, ihooks, KN.icmp_errors(events),
                                          corpus.icmp_replies)
                if drv:
                    kc = k.counters(k.listing(corpus.family, corpus.table))
                    counted = C.compare_counters(kc, drv.counters())
                    if any(h.honest for h in ihooks):
                        counted = [(kind, p + " (the interpreter's state took the predicted "
                                    "kernel bug on this step)") for kind, p in counted]
                    problems += counted
                elif any(h.verdict == "missing-in-kernel" for h in ihooks):
                    problems.append(("model", "the model ran hooks %s, the kernel %s" %
                                     ([h.hook for h in ihooks], [t.hook for t in ktrav])))
                # a packet is excused only if nothing else went wrong in its step
                if any(kind != "excused" for kind, _ in problems):
                    problems = [(kind, p) for kind, p in problems if kind != "excused"]
                for kind, p in problems:
                    if kind == "excused":
                        out.excused.append((i, step.text, p))
                    else:
                        out.problems.append((i, step.text, kind, p))
                if verbose:
                    print("  step %d %s: kernel %s" % (i, step, [(t.hook,) + info.kernel_verdict(t)
                                                             for t in ktrav]))
        except CompileError as e:
            out.error = "interpreter side refused the ruleset: %s" % e
        except Exception as e:   # noqa: BLE001 - report, then go on with the corpus
            out.error = "%s: %s" % (type(e).__name__, e)
            if verbose:
                traceback.print_exc()
        finally:
            if drv:
                if xdp:
                    out.kernel = drv.kernel_outcomes
                drv.close()
            k.close()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--driver", help="fn-diff-driver executable (omit: model check only)")
    ap.add_argument("--xdp", action="store_true",
                    help="kernel enforcement: the generated XDP program first (needs --driver)")
    ap.add_argument("--only", help="run only corpus files whose name contains this")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--max-problems", type=int, default=6)
    args = ap.parse_args()
    if args.xdp and not args.driver:
        ap.error("--xdp needs --driver")
    if os.geteuid() != 0:
        print("diff: needs root (network namespaces, raw sockets)")
        return 77
    os.environ["TZ"] = "UTC"
    time.tzset()
    files = []
    for p in args.paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".nft"))
        else:
            files.append(p)
    if args.only:
        files = [f for f in files if args.only in os.path.basename(f)]
    mode = ("differential, kernel enforcement (XDP program, then the interpreter resumed)"
            if args.driver and args.xdp else
            "differential" if args.driver else "model check only (no interpreter driver)")
    print("diff: %d rulesets, %s" % (len(files), mode))
    fast_path_bug = False
    if args.driver:
        fast_path_bug = Q.probe()
        print("diff: this kernel %s: %s" % (
            "has the payload fast path bug (transport loads read non-first fragments)"
            if fast_path_bug else "checks the fragment offset in its payload fast path",
            "packets on which it does exactly what the bug predicts are excused"
            if fast_path_bug else "ordinary comparison"))
    passed = failed = xfailed = excused = 0
    failures = []
    t0 = time.monotonic()
    for f in files:
        corpus = Corpus(f)
        t1 = time.monotonic()
        o = run_one(corpus, args.driver, args.verbose, fast_path_bug, args.xdp)
        bad = o.error or o.problems
        status = "PASS" if not bad else ("XFAIL" if corpus.xfail else "FAIL")
        print("[%s] %s (%d steps, %d hook evaluations, %.1fs%s%s)" %
              (status, o.name, o.steps, o.hooks, time.monotonic() - t1,
               ", %d packets excused" % len(o.excused) if o.excused else "",
               "; XDP program: %(drop)d dropped, %(judged)d judged, %(resumed)d resumed, "
               "%(unjudged)d unjudged" %
               o.kernel if o.kernel else ""))
        for (i, stext, p) in o.excused[:args.max_problems]:
            print("    excused: step %d `%s`: %s" % (i, stext, p))
        if len(o.excused) > args.max_problems:
            print("    excused: ... %d more, same reason" % (len(o.excused) - args.max_problems))
        excused += len(o.excused)
        if bad:
            if o.error:
                print("    error: %s" % o.error)
            for (i, stext, kind, p) in o.problems[:args.max_problems]:
                print("    step %d `%s`: %s%s" % (i, stext, "[MODEL] " if kind == "model" else "", p))
            if len(o.problems) > args.max_problems:
                print("    ... %d more" % (len(o.problems) - args.max_problems))
            if corpus.xfail:
                print("    expected failure: %s" % corpus.xfail)
                xfailed += 1
            else:
                failed += 1
                failures.append(o)
        else:
            if corpus.xfail:
                print("    note: marked xfail (%s) but passed" % corpus.xfail)
            passed += 1
    print("diff: corpus run took %.1fs" % (time.monotonic() - t0))
    if failures:
        print("Failing rulesets:")
        for o in failures:
            first = o.error or "step %d `%s`: %s" % (o.problems[0][0], o.problems[0][1], o.problems[0][3])
            print("  %s: %s" % (o.name, first))
    if xfailed:
        print("diff: %d expected failures (known divergences, reasons above)" % xfailed)
    print("diff: %d passed, %d failed%s" % (
        passed, failed, "; %d packets excused as %s" % (excused, Q.REASON) if fast_path_bug else ""))
    if failed:
        return 1
    return 0 if args.driver else 77


if __name__ == "__main__":
    sys.exit(main())
