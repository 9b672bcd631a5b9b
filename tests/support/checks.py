"""How every end-to-end test reports: one line per check ("ok   NAME" or
"FAIL NAME DETAIL"), then "N passed, N failed"; the exit status is 1 when a
check failed or none passed. Checks can be conditions (check) or functions
that raise on failure (run, with require inside them)."""
import os
import re
import sys
import time


def require(cond, msg="check failed"):
    """Inside a function given to Checks.run: fail it unless cond."""
    if not cond:
        raise AssertionError(msg)


class Checks:
    def __init__(self, only=None):
        """only: a regex; run() skips the checks whose name it does not match."""
        self.passed = self.failed = 0
        self.only = only

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print(f"ok   {name}")
        else:
            self.failed += 1
            print(f"FAIL {name} {detail}")
        sys.stdout.flush()
        return cond

    def run(self, name, fn, *args):
        """fn(*args) as one check: it passes unless it raises."""
        if self.only and not re.search(self.only, name):
            return None
        t0 = time.monotonic()
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001 - any exception fails this check only
            return self.check(name, False, f"{type(e).__name__}: {e}")
        return self.check(f"{name} ({time.monotonic() - t0:.2f}s)", True)

    def add(self, passed, failed):
        """Counts of a sub-test that printed its own lines."""
        self.passed += passed
        self.failed += failed

    def summary(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed or not self.passed else 0


def main(parser, run, client=None, root=True):
    """The entry point of a test script: `SCRIPT client ARGS...` runs
    client(ARGS) (the part that runs in a peer namespace); otherwise parse
    the arguments and return run(args), after checking for root."""
    if client and len(sys.argv) > 1 and sys.argv[1] == "client":
        client(sys.argv[2:])
        return 0
    args = parser.parse_args()
    if root and os.geteuid() != 0:
        print(f"{parser.prog}: needs root (network namespaces, DPDK)")
        return 1
    return run(args)
