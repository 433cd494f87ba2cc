"""Run a command on a pseudo-terminal, answering prompts: pty-driver.py STEPS_JSON CMD [ARGS...].

STEPS_JSON is a list of [prompt, reply]: wait until the output contains prompt, then type reply.
Prints everything the terminal showed, then exits with the command's exit code.
"""
import json
import os
import pty
import select
import sys
import time

steps = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])

seen = b""


def pump(until=None, timeout=20.0):
    global seen
    end = time.time() + timeout
    while time.time() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:
            return False
        if not data:
            return False
        seen += data
        if until is not None and until.encode() in seen:
            return True
    return False


for prompt, reply in steps:
    if not pump(prompt):
        break
    os.write(fd, reply.encode())
pump()
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
