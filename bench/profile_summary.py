"""Summarise py-spy's raw (collapsed) stacks: `python bench/profile_summary.py FILE...`.

`bench/run.py --profile` writes one file per gunicorn worker to bench/profiles/; this prints
the functions with the largest share of samples, inclusive and self, across all of them.
"""

from __future__ import annotations

import sys
from collections import Counter

# Frames every sample of a gunicorn worker has: not informative.
NOISE = ("gunicorn/", "threading.py", "runpy", "concurrent/futures", "selectors.py")


def summarise(paths: list[str], top: int = 30) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for path in paths:
        with open(path) as lines:
            for line in lines:
                stack, _, count = line.rstrip().rpartition(" ")
                if not stack:
                    continue
                samples = int(count)
                frames = stack.split(";")
                total += samples
                own[frames[-1]] += samples
                for frame in set(frames):
                    inclusive[frame] += samples
    out = [f"{total} samples"]
    for title, counter in (("inclusive", inclusive), ("self", own)):
        out.append(f"--- {title}")
        shown = [(f, n) for f, n in counter.most_common() if not any(x in f for x in NOISE)]
        out += [f"{n / total * 100:5.1f}%  {f[:140]}" for f, n in shown[:top]]
    return "\n".join(out)


if __name__ == "__main__":
    print(summarise(sys.argv[1:]))
