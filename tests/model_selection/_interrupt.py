"""Run a script in a child process and press Ctrl-C once it has started its work."""

import signal
import subprocess
import sys
import time


def interrupt_when_ready(tmp_path, source, ready, *, timeout=60):
    """Run ``source`` with the path of a journal file as its argument; send SIGINT to it once
    ``ready(journal text)`` holds. Returns ``(journal text when ready, child pid, return code,
    stdout)``; fails the test if the child never gets ready within ``timeout`` seconds.
    """
    script, journal = tmp_path / "child.py", tmp_path / "journal"
    script.write_text(source)
    journal.write_text("")
    child = subprocess.Popen(
        [sys.executable, str(script), str(journal)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while not ready(journal.read_text()) and time.monotonic() < deadline:
            time.sleep(0.2)
        state = journal.read_text()
        assert ready(state), f"the child never got ready; its journal: {state!r}"
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    return state, child.pid, child.returncode, out
