"""Processes of a test: stopping one without hanging on one that will not
stop, and running a function as another user."""
import os
import signal
import subprocess


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
