"""`python -m bench.rusage OUT.json -- CMD ...`: run CMD and write its own peak RSS and exit code to OUT.json.

A child's ru_maxrss counts the pages it shared with its parent between fork and exec, so a child of a large
process (the bench, holding a model) reports at least the parent's RSS. Started from this small launcher instead,
the command's peak is its own (plus this launcher's few MB at most).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    out, sep, command = argv[0], argv[1], argv[2:]
    if sep != "--" or not command:
        print("usage: python -m bench.rusage OUT.json -- CMD ...", file=sys.stderr)
        return 2
    proc = subprocess.Popen(command)
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    kib = usage.ru_maxrss / 1024 if sys.platform == "darwin" else usage.ru_maxrss  # bytes on macOS
    with open(out, "w") as f:
        json.dump({"returncode": code, "maxrss_kib": kib}, f)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
