#!/usr/bin/env python3
"""fragnetd as the packaged unit runs it (debian/fragnetd.service): not
root, but uid 65534 with CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_BPF as ambient
capabilities and no new privileges, its compile namespace made beforehand
by root (as fragnetd-prepare does), its socket in a directory it owns.
check and load must work: both lower in a scratch namespace, which the
daemon makes anonymous (a named one under /run/netns is root's to write).

  test_unprivileged.py --fragnetd F --fragnetctl C --rules-dir DIR
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import Checks, main  # noqa: E402
from fragnetd import Daemon  # noqa: E402

NOBODY = 65534
CAPS = "+sys_admin,+net_admin,+bpf"
# CAP_NET_ADMIN 12, CAP_SYS_ADMIN 21, CAP_BPF 39
CAP_MASK = (1 << 12) | (1 << 21) | (1 << 39)


def status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def run(args):
    c = Checks()
    d = Daemon(args.fragnetd, args.fragnetctl, tag=f"fnup{os.getpid()}d")
    try:
        # the unit's RuntimeDirectory: the socket's directory, the daemon's own
        run_dir = os.path.join(d.dir, "run")
        os.mkdir(run_dir)
        os.chown(run_dir, NOBODY, NOBODY)
        d.socket = os.path.join(run_dir, "fragnetd.sock")
        subprocess.run(["ip", "netns", "add", d.netns], check=True)
        wrap = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                "--no-new-privs", f"--inh-caps=-all,{CAPS}", f"--ambient-caps=-all,{CAPS}",
                f"--bounding-set=-all,{CAPS}"]
        d.start(wrap=wrap)
        st = status(d.proc.pid)
        c.check("fragnetd runs as uid 65534 with exactly the unit's capabilities",
                st["Uid"].split()[:2] == [str(NOBODY)] * 2 and
                int(st["CapEff"], 16) == CAP_MASK and int(st["CapBnd"], 16) == CAP_MASK,
                f"Uid {st['Uid']} CapEff {st['CapEff']} CapBnd {st['CapBnd']}")
        echo = os.path.join(args.rules_dir, "echo.nft")
        rc, out, err = d.ctl("check", echo)
        c.check("fragnetctl refuses a server of another uid that is not fragnetd's account",
                rc == 3 and "not fragnetd, refused" in err, f"exit {rc}: {out}{err}")
        # the package's account is "fragnetd"; this daemon runs as nobody
        os.environ["FRAGNETD_USER"] = "nobody"
        rc, out, err = d.ctl("check", echo)
        c.check("fragnetctl check works (its scratch namespace needs no /run/netns write)",
                rc == 0, f"exit {rc}: {out}{err}")
        rc, out, err = d.ctl("load", echo)
        c.check("fragnetctl load works", rc == 0, f"exit {rc}: {out}{err}")
        bad = d.rules_file("bad.nft", "table inet echo { chain input { udp dport 7 frobnicate } }\n")
        rc, out, err = d.ctl("load", bad)
        rc2, listing, _ = d.ctl("list", "ruleset")
        c.check("a bad ruleset is refused and the loaded one stays",
                rc == 1 and rc2 == 0 and "udp dport 7 counter" in listing,
                f"exit {rc}: {out}{err}; list: {listing}")
        c.check("nothing of it under /run/netns but the compile namespace",
                not [n for n in os.listdir("/run/netns") if n.startswith(d.netns + ".")],
                str(os.listdir("/run/netns")))
    finally:
        d.cleanup()
    return c.summary()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--fragnetd", required=True)
    p.add_argument("--fragnetctl", required=True)
    p.add_argument("--rules-dir", required=True)
    sys.exit(main(p, run))
