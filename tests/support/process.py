"""Stopping a process a test started, without hanging on one that will not
stop."""
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
