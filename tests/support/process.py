"""Processes of a test: stopping one without hanging on one that will not
stop, running a function as another user, and what one spends."""
import os
import signal
import subprocess
import time


def stop_process(proc, timeout=20):
    """SIGTERM, then SIGKILL after `timeout` s; (exit status, remaining
    output of a piped stdout, else "")."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return proc.returncode, out or ""


def as_uid(uid, fn):
    """Run fn() in a child process with uid/gid `uid`; its exit status is fn's result."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os._exit(fn())
        except BaseException as e:  # noqa: BLE001 - report anything as failure
            print(f"child: {e}")
            os._exit(99)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def cpu_share(pid, seconds):
    """The share of one CPU that process pid uses over the next `seconds`."""
    def ticks():
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    before = ticks()
    time.sleep(seconds)
    return (ticks() - before) / os.sysconf("SC_CLK_TCK") / seconds
