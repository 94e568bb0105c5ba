#!/usr/bin/env python3
"""A resumable agent in Python: counts to --to, one step every --step-ms,
checkpointing its count after every step.  Killed at any moment, it comes
back where its last checkpoint left it.  Under corrald it says READY and
sends heartbeats; alone it checkpoints to --db (or memory).

    corrald:  command = python3 etc/examples/counter.py --to 100
    alone:    python3 etc/examples/counter.py --db /tmp/counter.db
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "worker-sdk", "python"))
import corral  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--to", type=int, default=0, help="stop there (0: never)")
    ap.add_argument("--step-ms", type=int, default=100)
    ap.add_argument("--db", default=None, help="checkpoints, when alone")
    a = ap.parse_args()

    w = corral.Worker(checkpoint_db=a.db)
    cp = w.resume()
    n = json.loads(cp.data)["n"] if cp else 0
    print("resumed at %d" % n if cp else "starting at 0", flush=True)
    w.ready()
    while not w.stopping and (a.to == 0 or n < a.to):
        time.sleep(a.step_ms / 1000.0)       # the step's work
        n += 1
        w.checkpoint(json.dumps({"n": n}).encode(), {"source": "loop", "step": n})
        print("step %d" % n, flush=True)
        w.heartbeat()
        w.status("at step %d" % n)
    print("stopping at %d" % n if w.stopping else "done at %d" % n, flush=True)
    w.close()


if __name__ == "__main__":
    main()
