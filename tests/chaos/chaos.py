#!/usr/bin/python3
"""
chaos.py: a chaos run for corrald.  It runs the real corrald on a fleet of
58 counting agents (tests/chaos/agent.c) in several clusters, injects
faults at random times drawn from one seed (SIGKILL, SIGSTOP and requested
exits of workers, output floods, SIGKILL of corrald itself, reexec, reload,
restart, reset), stops everything and checks what corral promises: every
count exact and unforked, never two live runs of one instance, nothing
left behind, intact databases, breakers that match their events, a final
checkpoint for every run told to stop, FATAL remembered across a restart
of corrald.  It prints the faults by kind, every violation with what is
needed to debug it, and "N passed, N failed"; exit status 1 on a failure.

usage: chaos.py [--seed N] [--short] [--build DIR] [--breakers on|off]
                [--without KIND,...] [--keep] [--verbose] [--progress]
                [--period MS] [--show N] [--debug-sampler]

The seed fixes the fleet, the schedule of faults (times and kinds), the
reload variants and the sequence of random choices; which process a fault
hits also depends on what runs at that moment, so a replay repeats the run
closely but not to the process.  Standard library only; Linux only (/proc,
pidfd, PR_SET_CHILD_SUBREAPER).
"""

import argparse
import collections
import ctypes
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
# Real-time signals by number, as agent.c has them (CHAOS_SIG): SIGRTMIN
# differs between a plain and a sanitized build of the agent.
RT = 39
# Signals the agent turns into an exit or a flood (see agent.c).
WORKER_SIGNALS = {
    "exit_transient": signal.SIGUSR1,
    "exit_crash": signal.SIGUSR2,
    "exit_fatal": RT + 1,
    "flood": RT + 2,
    "exit_error": RT + 3,
}
KINDS = ["kill_worker", "sigstop", "exit_transient", "exit_crash",
         "exit_error", "exit_fatal", "flood", "restart", "reload", "reexec",
         "kill_corrald", "reset"]
FATAL_AGENTS = ("brittle", "brittle2")
# Faults after which a run owes no final checkpoint.
INTERFERE = ("kill_worker", "sigstop", "exit_transient", "exit_crash",
             "exit_error", "exit_fatal")
NPROC = 4096
LATE = 5.0  # seconds behind schedule after which a fault is dropped

MODES = {
    # inject: seconds of faults; rate: faults a second (a mean); kills:
    # SIGKILLs of corrald; minimum: delivered faults of each kind at least;
    # hard: the whole run's limit in seconds.
    "full": dict(inject=100.0, rate=5.8, kills=8, hard=240.0, settle=3.0,
                 minimum={"kill_corrald": 8, "reexec": 6, "reload": 10,
                          "exit_fatal": 12, "sigstop": 20, "restart": 10,
                          "flood": 20, "kill_worker": 40,
                          "exit_transient": 30, "exit_crash": 30,
                          "exit_error": 20},
                 min_total=500),
    "short": dict(inject=24.0, rate=3.5, kills=3, hard=90.0, settle=2.0,
                  minimum={"kill_corrald": 3, "reexec": 2, "reload": 3,
                           "exit_fatal": 3, "sigstop": 3, "restart": 3,
                           "flood": 3, "kill_worker": 6,
                           "exit_transient": 4, "exit_crash": 4,
                           "exit_error": 3},
                  min_total=60),
}
WEIGHTS = {"kill_worker": 20, "sigstop": 7, "exit_transient": 13,
           "exit_crash": 13, "exit_error": 8, "exit_fatal": 4, "flood": 8,
           "restart": 5, "reload": 2, "reexec": 1.5}


def mono():
    return time.monotonic()


# ---------------------------------------------------------------- /proc

class Stat:
    __slots__ = ("pid", "comm", "state", "ppid", "pgid", "sid", "start")


def read_file(path, size=4096):
    """The bytes of a /proc file, or None; os.read costs half of open()."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        chunks = []
        while True:
            b = os.read(fd, size)
            if not b:
                break
            chunks.append(b)
            if len(b) < size and not path.endswith("environ"):
                break
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def read_stat(pid):
    """/proc/PID/stat as a Stat, or None when the process is gone."""
    b = read_file("/proc/%d/stat" % pid, 1024)
    if not b:
        return None
    r = b.rfind(b")")
    if r < 0:
        return None
    f = b[r + 2:].split()
    s = Stat()
    s.pid = pid
    s.comm = b[b.find(b"(") + 1:r].decode("utf-8", "replace")
    s.state = chr(f[0][0])
    s.ppid, s.pgid, s.sid = int(f[1]), int(f[2]), int(f[3])
    s.start = int(f[19])
    return s


ENV_KEYS = (b"CHAOS_TAG", b"CHAOS_RUN", b"CORRAL_AGENT", b"CORRAL_INSTANCE")


def read_env(pid):
    """The variables of ENV_KEYS in /proc/PID/environ; None if unreadable
    (gone, or a zombie, whose environment reads empty)."""
    b = read_file("/proc/%d/environ" % pid, 65536)
    if not b:
        return None
    env = {}
    for kv in b.split(b"\0"):
        k, _, v = kv.partition(b"=")
        if k in ENV_KEYS:
            env[k.decode()] = v.decode("utf-8", "replace")
    return env


def read_status_masks(pid):
    """(pending signals, caught signals) of PID as bit masks, or None."""
    b = read_file("/proc/%d/status" % pid, 8192)
    if not b:
        return None
    pend = cgt = 0
    for line in b.decode("ascii", "replace").splitlines():
        if line.startswith(("SigPnd:", "ShdPnd:")):
            pend |= int(line.split()[1], 16)
        elif line.startswith("SigCgt:"):
            cgt = int(line.split()[1], 16)
    return pend, cgt


def sig_bit(sig):
    return 1 << (int(sig) - 1)


def alive_not_dying(pid, start):
    """True if (pid, start) still runs, not a zombie, no SIGKILL pending."""
    s = read_stat(pid)
    if s is None or s.start != start or s.state in "ZXx":
        return False
    m = read_status_masks(pid)
    if m is None:
        return False
    return not m[0] & sig_bit(signal.SIGKILL)


class Proc:
    """One process of ours as one sweep saw it."""
    __slots__ = ("pid", "start", "state", "ppid", "pgid", "sid", "comm",
                 "role", "run", "inst")

    def brief(self, h=None):
        parent = "ppid %d" % self.ppid
        if h is not None:
            if self.ppid == h.me:
                parent = "orphan (ppid harness)"
            elif h.corrald_pids.get(self.ppid):
                parent = "ppid corrald#%d" % h.corrald_pids[self.ppid]
        return "pid %d %s %s state %s pgid %d sid %d %s" % (
            self.pid, self.role, self.comm, self.state, self.pgid, self.sid,
            parent)


class Info:
    """What a process's environment says, cached by (pid, start time)."""
    __slots__ = ("ours", "kind", "run", "inst", "definitive")


# ---------------------------------------------------------------- sampler

class Sampler(threading.Thread):
    """
    Reads /proc every period: which processes are ours (CHAOS_TAG in their
    environment), which run of which instance each belongs to; flags an
    instance with two runs alive at once; reaps the orphans that come to
    the harness (it is a child subreaper), recording how they died; sends
    the SIGCONTs that are due.
    """

    def __init__(self, h, period):
        super().__init__(name="sampler", daemon=True)
        self.h = h
        self.period = period
        self.cache = {}          # (pid, start) -> Info
        self.main_start = {}     # pid -> start time of the main seen there
        self.snap = {}           # pid -> Proc, the last sweep's
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.overlaps = {}       # (inst, runs) -> record
        self.dying_skipped = 0   # candidate overlaps a dying process explained
        self.unconfirmed = 0     # candidate overlaps gone at confirmation
        self.reaped = []         # orphans the harness reaped
        self.sweeps = 0
        self.durations = []      # of each sweep, seconds
        self.cycle_max = 0.0     # the longest time between two sweeps' starts
        self.blind = 0.0         # the time in gaps of over 1 s between them
        self.last_start = None
        self.error = None

    def classify(self, pid, st):
        key = (pid, st.start)
        info = self.cache.get(key)
        if info is not None and info.definitive:
            return info
        env = read_env(pid)
        if env is None:
            return info  # gone, or a zombie: what was known before
        info = Info()
        info.ours = env.get("CHAOS_TAG") == self.h.tag
        info.kind, info.run, info.inst = "other", None, None
        info.definitive = not info.ours and st.ppid != self.h.me
        if info.ours:
            if "CHAOS_RUN" in env:
                info.kind = "gc"
                info.run = env["CHAOS_RUN"]
                info.inst = info.run.split(":")[0]
                info.definitive = True
            elif "CORRAL_AGENT" in env:
                info.inst = "%s.%s" % (env["CORRAL_AGENT"],
                                       env.get("CORRAL_INSTANCE", "?"))
                if pid == st.sid:
                    # The run's main process: corrald made it a session
                    # leader before exec, and the environment is corrald's.
                    info.kind = "main"
                    info.run = "%s:%d:%d" % (info.inst, pid, st.start)
                    info.definitive = True
                else:
                    info.kind = "pre"  # forked by a run, not yet exec'd
        self.cache[key] = info
        return info

    def sweep(self):
        procs = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            if pid == self.h.me:
                continue
            st = read_stat(pid)
            if st is None:
                continue
            info = self.classify(pid, st)
            if info is None or not info.ours:
                continue
            p = Proc()
            p.pid, p.start, p.state, p.ppid = pid, st.start, st.state, st.ppid
            p.pgid, p.sid, p.comm = st.pgid, st.sid, st.comm
            p.inst, p.run = info.inst, info.run
            if info.kind == "main":
                p.role = "main"
                self.main_start[pid] = st.start
            elif info.kind == "gc":
                lead = int(info.run.split(":")[1])
                p.role = "child" if st.pgid == lead else "escaped"
            elif info.kind == "pre":
                # In its run's group: the run is the group leader's.
                p.role = "child"
                p.run = "%s:%d:%s" % (info.inst, st.pgid,
                                      self.main_start.get(st.pgid, "?"))
            else:
                p.role = "other"
            procs[pid] = p
        return procs

    def check(self, procs, t1):
        by_inst = collections.defaultdict(lambda: collections.defaultdict(list))
        for p in procs.values():
            if p.role in ("main", "child") and p.state not in "ZXx":
                by_inst[p.inst][p.run].append(p)
        for inst, runs in by_inst.items():
            if len(runs) < 2:
                continue
            # Confirm: each process read alive at the sweep (t1) and now
            # (t3 > t1) lived all along, so two runs read alive twice
            # overlapped; a dying one (SIGKILL pending) does not count.
            live = {}
            dying = False
            for run, ps in runs.items():
                ok = [p for p in ps if alive_not_dying(p.pid, p.start)]
                if ok:
                    live[run] = ok
                elif any(read_stat(p.pid) is not None for p in ps):
                    dying = True
            if len(live) < 2:
                if dying:
                    self.dying_skipped += 1
                else:
                    self.unconfirmed += 1
                if self.h.args.debug_sampler:
                    print("sampler: %s at %s: not confirmed (%s): %s" % (
                        inst, self.h.stamp(t1), "a dying process" if dying
                        else "gone", "; ".join(
                            "run %s: %s" % (r, ", ".join(
                                p.brief(self.h) for p in ps))
                            for r, ps in runs.items())), flush=True)
                continue
            t3 = mono()
            key = (inst, tuple(sorted(live)))
            rec = self.overlaps.get(key)
            if rec is None:
                rec = dict(inst=inst, runs=sorted(live), first=t1, last=t3,
                           samples=0, wall=time.time(),
                           procs={r: [p.brief(self.h) for p in ps]
                                  for r, ps in live.items()})
                self.overlaps[key] = rec
            rec["last"] = t3
            rec["samples"] += 1

    def reap(self, procs):
        for p in procs.values():
            if p.ppid != self.h.me or p.state != "Z":
                continue
            with self.h.spawn_lock:
                if p.pid in self.h.mine:
                    continue
                try:
                    wpid, status = os.waitpid(p.pid, os.WNOHANG)
                except ChildProcessError:
                    continue
            if wpid != p.pid:
                continue
            if os.WIFSIGNALED(status):
                how = ("signal", os.WTERMSIG(status))
            else:
                how = ("exit", os.WEXITSTATUS(status))
            self.reaped.append(dict(t=mono(), pid=p.pid, start=p.start,
                                    run=p.run, inst=p.inst, role=p.role,
                                    comm=p.comm, how=how))

    def run(self):
        # Ahead of the fleet for the CPU, so that samples stay frequent on a
        # loaded machine; nice is per thread, so nothing we start gets it.
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), -10)
        except OSError:
            pass
        try:
            while not self.stop_ev.is_set():
                t0 = mono()
                if self.last_start is not None:
                    self.cycle_max = max(self.cycle_max, t0 - self.last_start)
                    if t0 - self.last_start > 1.0:
                        self.blind += t0 - self.last_start
                self.last_start = t0
                procs = self.sweep()
                self.check(procs, t0)
                self.reap(procs)
                self.h.cont_due()
                with self.lock:
                    self.snap = procs
                t = mono()
                self.sweeps += 1
                self.durations.append(t - t0)
                if self.h.args.debug_sampler and t - t0 > 0.1:
                    print("sampler: slow sweep %d at %s: %d processes, %.1f "
                          "ms" % (self.sweeps, self.h.stamp(t0), len(procs),
                                  1000 * (t - t0)), flush=True)
                if self.h.args.debug_sampler and self.sweeps % 50 == 0:
                    print("sampler: sweep %d: %d processes of ours, %.1f ms, "
                          "load %s" % (self.sweeps, len(procs),
                                       1000 * (t - t0), read_file(
                                           "/proc/loadavg").decode()[:15]),
                          flush=True)
                if self.sweeps % 200 == 0:
                    for key in [k for k in self.cache if k[0] not in procs]:
                        del self.cache[key]
                # One sweep a period, or back to back when sweeps are slower.
                self.stop_ev.wait(max(0.002, self.period - (t - t0)))
        except Exception as e:  # the harness must not pass silently
            self.error = repr(e)
            raise

    def snapshot(self):
        with self.lock:
            return dict(self.snap)


# ---------------------------------------------------------------- fleet

# name, cluster, numprocs, agent arguments, extra keys
AGENTS = [
    ("plain", "core", 8, "--pace {plain_pace}", {}),
    ("slow", "core", 6, "--pace 20 --slow-stop 600",
     {"stop_timeout": "{slow_stop_timeout}"}),
    ("noisy", "core", 3, "--pace 20 --flood 40", {"log_max_bytes": "256K"}),
    ("brittle2", "core", 3, "--pace 20 --slow-stop 300", {}),
    ("sluggish", "edge", 3, "--pace 25 --slow-stop 1200 --quiet",
     {"stop_timeout": "5s"}),
    ("deaf", "edge", 4, "--pace 30 --ignore-stop --quiet",
     {"stop_timeout": "1s"}),
    ("forker", "edge", 5, "--pace 25 --children 2", {}),
    ("escaper", "edge", 3, "--pace 25 --children 1 --escape", {}),
    ("brittle", "edge", 5, "--pace 20", {"stop_signal": "INT"}),
    ("coord", "team", 1, "--pace 20", {"priority": "-1"}),
    ("member", "team", 4, "--pace 20", {"stdout": "inherit"}),
    ("first", "pipe", 2, "--pace {pipe_pace}", {"priority": "-1"}),
    ("second", "pipe", 3, "--pace {pipe_pace}", {}),
    ("watched", None, 4, "--pace 20", {"watchdog": "1s"}),
    ("primary", None, 2, "--pace 20", {"fallback": "backup"}),
    ("backup", None, 2, "--pace 20", {"autostart": "false"}),
]
CLUSTERS = [
    ("core", {"failure_threshold": "40", "failure_window": "10s",
              "recovery_timeout": "1s", "recovery_timeout_max": "2s",
              "min_healthy": "2", "on_state_change": "true"}),
    ("edge", {"failure_threshold": "30", "failure_window": "10s",
              "recovery_timeout": "1s", "recovery_timeout_max": "2s"}),
    ("team", {"strategy": "one_for_all", "failure_threshold": "15",
              "failure_window": "10s", "recovery_timeout": "1s",
              "recovery_timeout_max": "2s"}),
    ("pipe", {"strategy": "rest_for_one", "failure_threshold": "15",
              "failure_window": "10s", "recovery_timeout": "1s",
              "recovery_timeout_max": "2s"}),
]
# What a reload may change, with the choices; the first is the start's.
VARIANTS = {
    "backoff_initial": ["150ms", "100ms", "250ms"],
    "backoff_max": ["1500ms", "1s", "2s"],
    "healthy_after": ["500ms", "300ms", "800ms"],
    "failure_threshold": ["5", "4", "6"],
    "recovery_timeout": ["1s", "1500ms"],
    # Room for a slow stop and its checkpoints while the whole fleet stops
    # and writes at once (a sanitized build is slower still).
    "slow_stop_timeout": ["4s", "3s", "5s"],
    "plain_n": [8, 9, 10],
    "plain_pace": [20, 24],
    "watched_n": [4, 5],
    "pipe_pace": [20, 22],
}
# Agents whose command or numprocs a reload changes: never fatal targets.
RELOADED = ("plain", "watched", "first", "second")


def fleet_text(h, v):
    out = ["; chaos fleet, seed %d, variant %s" % (h.seed, json.dumps(
        v, sort_keys=True)), "",
        "[corrald]",
        "state_db = %s/corral-state.db" % h.T,
        "checkpoint_db = %s/corral-checkpoints.db" % h.T,
        "run_dir = %s/run" % h.T,
        "log_dir = %s/log" % h.T,
        "log_level = info",
        "",
        "[defaults]",
        "restart = always",
        "backoff_initial = %s" % v["backoff_initial"],
        "backoff_max = %s" % v["backoff_max"],
        "backoff_jitter = 0.25",
        "healthy_after = %s" % v["healthy_after"],
        "failure_threshold = %s" % v["failure_threshold"],
        "recovery_timeout = %s" % v["recovery_timeout"],
        "recovery_timeout_max = 3s",
        "half_open_max_calls = 2",
        "stop_timeout = 2s",
        # Rollback forks a thread on purpose: off, every fork is a fault.
        "poison_threshold = 0",
        "log_max_bytes = 512K",
        "log_backups = 1",
        ""]
    for name, opts in CLUSTERS:
        out.append("[cluster:%s]" % name)
        out += ["%s = %s" % kv for kv in opts.items()]
        out.append("")
    for name, cluster, n, args, extra in AGENTS:
        if name == "plain":
            n = v["plain_n"]
        elif name == "watched":
            n = v["watched_n"]
        out.append("[agent:%s]" % name)
        out.append("command = %s %s" % (h.agent_bin, args.format(**v)))
        if cluster:
            out.append("cluster = %s" % cluster)
        out.append("numprocs = %d" % n)
        out += ["%s = %s" % (k, val.format(**v)) for k, val in extra.items()]
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------- harness

class Harness:
    def __init__(self, args):
        self.args = args
        self.mode = MODES["short" if args.short else "full"]
        self.seed = args.seed
        self.build = os.path.abspath(args.build)
        self.corrald = os.path.join(self.build, "corrald")
        self.corralctl = os.path.join(self.build, "corralctl")
        self.agent_bin = os.path.join(self.build, "chaos", "agent")
        self.T = tempfile.mkdtemp(prefix="corral-chaos.")
        self.tag = self.T
        self.me = os.getpid()
        self.sock = os.path.join(self.T, "run", "corrald.sock")
        self.fleet = os.path.join(self.T, "fleet.ini")
        self.journal_dir = os.path.join(self.T, "journal")
        os.mkdir(self.journal_dir)
        self.t0 = mono()
        self.wall0 = time.time() - self.t0  # wall = wall0 + mono
        self.hard_deadline = self.t0 + self.mode["hard"]
        self.rng_sched = random.Random(self.seed)
        self.rng = random.Random(self.seed * 7919 + 1)
        self.spawn_lock = threading.Lock()
        self.mine = set()          # pids of our Popen children
        self.cd = None             # the corrald Popen
        self.cd_n = 0
        self.corrald_pids = {}     # pid -> start number
        self.cd_starts = []        # (t, pid)
        self.cd_kills = []         # t
        self.expect_exit = False
        self.faults = collections.Counter()
        self.skipped = collections.Counter()
        self.ops = []              # every fault and operation, in order
        self.touched = collections.defaultdict(list)  # run -> [(kind, t)]
        self.stopped = []          # [pidfd, pid, run, due]
        self.stop_lock = threading.Lock()
        self.violations = collections.defaultdict(list)
        self.health = []           # corrald's own failures
        self.variant = {k: c[0] for k, c in VARIANTS.items()}
        self.end_snapshot = {}
        self.fatal_seen = set()
        self.fatal_states = []     # FATAL forgotten across a restart
        self.logf = open(os.path.join(self.T, "corrald.log"), "ab")
        deadline_ms = int((self.hard_deadline + 30) * 1000)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("CORRAL_", "CHAOS_", "NOTIFY_",
                                         "WATCHDOG_"))}
        self.env.update(CHAOS_TAG=self.tag, CHAOS_JOURNAL=self.journal_dir,
                        CHAOS_DEADLINE_MS=str(deadline_ms))
        if args.breakers == "off":
            self.env["CIRCUIT_BREAKER_ENABLED"] = "false"
        self.without = set(args.without.split(",")) if args.without else set()
        bad = self.without - set(KINDS)
        if bad:
            sys.exit("chaos: --without: no kind %s (kinds: %s)" % (
                ", ".join(sorted(bad)), ", ".join(KINDS)))
        self.sampler = Sampler(self, args.period / 1000.0)

    # -- time and records

    def rel(self, t=None):
        return (mono() if t is None else t) - self.t0

    def stamp(self, t):
        """t+SEC (local HH:MM:SS.mmm), for a monotonic time t."""
        w = self.wall0 + t
        return "t+%.3fs (%s.%03d)" % (t - self.t0, time.strftime(
            "%H:%M:%S", time.localtime(w)), int(w * 1000) % 1000)

    def say(self, msg):
        print("[%7.3f] %s" % (self.rel(), msg), flush=True)

    def verbose(self, msg):
        if self.args.verbose:
            self.say(msg)

    def op(self, kind, ok, t=None, **kw):
        # t: when it was asked (a reset's effect may precede its answer).
        rec = dict(t=mono() if t is None else t, kind=kind, ok=ok, **kw)
        self.ops.append(rec)
        if ok:
            self.faults[kind] += 1
        else:
            self.skipped[kind] += 1
        self.verbose("%s %s %s" % (kind, "ok" if ok else "skipped",
                                   " ".join("%s=%s" % i for i in kw.items())))
        return rec

    def over_hard_limit(self):
        return mono() > self.hard_deadline

    # -- processes we start

    def popen(self, argv, **kw):
        with self.spawn_lock:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                 env=self.env, cwd=self.T, **kw)
            self.mine.add(p.pid)
        return p

    def forget(self, p):
        with self.spawn_lock:
            self.mine.discard(p.pid)

    def ctl(self, *args, timeout=10.0):
        """Runs corralctl; (status, stdout, stderr), status None on a
        timeout."""
        p = self.popen([self.corralctl, "-s", self.sock] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = p.communicate(timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            rc = None
        self.forget(p)
        return rc, out.decode("utf-8", "replace"), err.decode(
            "utf-8", "replace")

    def start_corrald(self):
        self.cd_n += 1
        self.logf.write(("\n=== chaos: corrald start #%d at %s\n" % (
            self.cd_n, self.stamp(mono()))).encode())
        self.logf.flush()
        # prlimit caps its processes (not for root, who is exempt);
        # setpriv makes it die with the harness, should the harness die.
        self.cd = self.popen(["prlimit", "--nproc=%d" % NPROC, "--",
                              "setpriv", "--pdeathsig", "KILL", "--",
                              self.corrald, "-c", self.fleet],
                             stdout=self.logf, stderr=subprocess.STDOUT)
        self.corrald_pids[self.cd.pid] = self.cd_n
        self.cd_starts.append((mono(), self.cd.pid))
        self.expect_exit = False
        self.verbose("corrald #%d started, pid %d" % (self.cd_n, self.cd.pid))

    def corrald_up(self, timeout=15.0):
        """Waits until corrald answers; False (and a health failure) when it
        does not within timeout or exits."""
        end = min(mono() + timeout, self.hard_deadline)
        while mono() < end:
            if self.cd.poll() is not None:
                break
            rc, _, _ = self.ctl("version", timeout=5)
            if rc == 0:
                return True
            time.sleep(0.05)
        self.health.append("corrald #%d (pid %d) did not answer within "
                           "%.0fs of its start (exit status %s)" % (
                               self.cd_n, self.cd.pid, timeout,
                               self.cd.poll()))
        return False

    def check_corrald(self):
        """A corrald that exited without being asked is a failure; start
        another so the run goes on."""
        if self.cd.poll() is None or self.expect_exit:
            return
        self.health.append("corrald #%d (pid %d) exited on its own at %s "
                           "with status %s" % (self.cd_n, self.cd.pid,
                                               self.stamp(mono()),
                                               self.cd.returncode))
        self.forget(self.cd)
        self.start_corrald()
        self.corrald_up()

    # -- faults on workers

    def targets(self, agents=None):
        cd = self.cd.pid
        return sorted((p for p in self.sampler.snapshot().values()
                       if p.role == "main" and p.ppid == cd
                       and p.state not in "ZXx"
                       and (agents is None or p.inst.split(".")[0] in agents)),
                      key=lambda p: (p.inst, p.pid))

    def send(self, p, sig, need_handler, keep=False):
        """Signals the very process p (a pidfd, then its start time checked).
        The pidfd if keep, else True; None if it could not be done."""
        try:
            fd = os.pidfd_open(p.pid)
        except OSError:
            return None
        try:
            st = read_stat(p.pid)
            if st is None or st.start != p.start or st.state in "ZXx":
                return None
            if need_handler:
                m = read_status_masks(p.pid)
                if m is None or not m[1] & sig_bit(sig):
                    return None  # not ready for it yet
            signal.pidfd_send_signal(fd, sig)
        except OSError:
            os.close(fd)
            return None
        if keep:
            return fd
        os.close(fd)
        return True

    def worker_fault(self, kind):
        agents = FATAL_AGENTS if kind == "exit_fatal" else None
        cands = self.targets(agents)
        if kind == "sigstop":
            cands = [p for p in cands if p.state != "T"]
        for _ in range(3):
            if not cands:
                break
            p = self.rng.choice(cands)
            cands.remove(p)
            if kind == "kill_worker":
                ok = self.send(p, signal.SIGKILL, False)
            elif kind == "sigstop":
                fd = self.send(p, signal.SIGSTOP, False, keep=True)
                ok = fd is not None
                if ok:
                    due = mono() + self.rng.uniform(0.3, 2.5)
                    with self.stop_lock:
                        self.stopped.append([fd, p.pid, p.run, due])
            else:
                ok = self.send(p, WORKER_SIGNALS[kind], True)
            if ok:
                self.touched[p.run].append((kind, mono()))
                self.op(kind, True, inst=p.inst, pid=p.pid, run=p.run)
                return
        self.op(kind, False, why="no target")

    def cont_due(self, all_of_them=False):
        """SIGCONT to the runs we stopped whose time has come.  Called by the
        sampler thread every sweep, so that a main loop slowed down by a
        loaded machine cannot leave a run stopped (one stopped while it
        holds the checkpoint database's write lock stalls every writer)."""
        with self.stop_lock:
            self._cont_due(all_of_them)

    def _cont_due(self, all_of_them):
        now = mono()
        keep = []
        for fd, pid, run, due in self.stopped:
            if all_of_them or due <= now:
                try:
                    signal.pidfd_send_signal(fd, signal.SIGCONT)
                    self.verbose("sigcont %s" % run)
                except OSError:
                    pass  # it died stopped (watchdog, stop, corrald)
                os.close(fd)
            else:
                keep.append([fd, pid, run, due])
        self.stopped = keep

    # -- faults on corrald

    def kill_corrald(self):
        self.expect_exit = True
        pid = self.cd.pid
        os.kill(pid, signal.SIGKILL)
        self.cd.wait()
        self.forget(self.cd)
        self.cd_kills.append(mono())
        self.op("kill_corrald", True, pid=pid, n=self.cd_n)
        time.sleep(self.rng.uniform(0.05, 0.6))
        self.start_corrald()
        if self.corrald_up():
            self.check_fatal_state()

    def reexec(self):
        # corrald refuses while it still stops what a reload removed or
        # what a dead corrald left (up to a stop_timeout): as documented,
        # try again when they are gone.
        deadline = mono() + 10
        while True:
            rc, out, err = self.ctl("reexec", timeout=20)
            if rc == 0 or "try again when they are gone" not in (
                    err or out) or mono() > deadline:
                break
            time.sleep(0.25)
        if rc == 0:
            self.op("reexec", True, pid=self.cd.pid, answer=out.strip())
        else:
            self.op("reexec", False, why="status %s: %s" % (rc, (
                err or out).strip()))
            if self.cd.poll() is None and rc != 3:
                self.health.append("reexec at %s failed: status %s: %s" % (
                    self.stamp(mono()), rc, (err or out).strip()))

    def reload(self):
        v = dict(self.variant)
        keys = self.rng.sample(sorted(VARIANTS), self.rng.randint(1, 3))
        for k in keys:
            v[k] = self.rng.choice([c for c in VARIANTS[k] if c != v[k]])
        tmp = self.fleet + ".tmp"
        with open(tmp, "w") as f:
            f.write(fleet_text(self, v))
        os.rename(tmp, self.fleet)
        self.variant = v
        rc, out, err = self.ctl("reload", timeout=20)
        change = ",".join("%s=%s" % (k, v[k]) for k in keys)
        if rc == 0:
            self.op("reload", True, change=change)
        else:
            self.op("reload", False, change=change, why="status %s: %s" % (
                rc, (err or out).strip()))
            if self.cd.poll() is None and rc != 3:
                self.health.append("reload at %s failed: status %s: %s" % (
                    self.stamp(mono()), rc, (err or out).strip()))

    def restart(self):
        cands = self.targets()
        if not cands:
            self.op("restart", False, why="no target")
            return
        p = self.rng.choice(cands)
        agent, k = p.inst.rsplit(".", 1)
        asked = mono()
        rc, out, err = self.ctl("restart", "--no-wait", "%s:%s" % (agent, k))
        self.op("restart", rc == 0, t=asked, inst=p.inst, run=p.run,
                why="" if rc == 0 else "status %s: %s" % (rc, err.strip()))

    def state_db(self):
        """The state database, read-only (corrald may be writing it)."""
        return sqlite3.connect("file:%s?mode=ro" % os.path.join(
            self.T, "corral-state.db"), uri=True, timeout=5)

    def status(self):
        rc, out, _ = self.ctl("status", "--json")
        if rc != 0:
            return None
        try:
            return json.loads(out)
        except ValueError:
            return None

    def reset_fatal(self, every_open=False):
        """corralctl reset of each agent with a FATAL worker or a breaker
        that needs a reset (every_open: also of each whose breaker is not
        CLOSED), so that work goes on."""
        j = self.status()
        if j is None:
            return
        names, need = set(), set()
        for w in j.get("workers", []):
            if w.get("state") == "FATAL":
                need.add(w["agent"])
            if every_open and w.get("breaker") not in (None, "CLOSED", "OFF"):
                names.add(w["agent"])
        try:
            db = self.state_db()
            need |= {n for (n,) in db.execute(
                "SELECT name FROM breakers WHERE reset_required = 1")}
            db.close()
        except sqlite3.Error:
            pass
        need &= {a[0] for a in AGENTS}
        # Needed for a while first (two looks in a row), so that a SIGKILL
        # of corrald finds some agent FATAL, which its restart must remember.
        names |= need if every_open else need & self.fatal_seen
        self.fatal_seen = need - names
        for a in sorted(names):
            asked = mono()
            rc, out, err = self.ctl("reset", a, "--reason", "chaos")
            self.op("reset", rc == 0, t=asked, agent=a,
                    why="" if rc == 0 else "status %s: %s" % (rc, err.strip()))

    def cleared_after(self, agent, inst, t):
        """Whether a reset of agent or a restart of inst came after t (a
        monotonic time; a reset sent up to 1 s before may act after it)."""
        for o in self.ops:
            if o["ok"] and o["t"] >= t - 1.0 and (
                    (o["kind"] == "reset" and o["agent"] == agent) or
                    (o["kind"] == "restart" and o["inst"] == inst)):
                return True
        return False

    def started_since(self, inst, t):
        """Whether a run of inst started after t (its journal says so):
        then the instance is no longer FATAL by corrald's doing, and that
        start is judged by check_fatal, not counted twice here."""
        try:
            with open(os.path.join(self.journal_dir, inst + ".journal"),
                      "rb") as f:
                for line in f:
                    p = line.split()
                    if len(p) > 1 and p[1] == b"start" and p[0].isdigit() \
                            and int(p[0]) / 1000.0 > t:
                        return True
        except OSError:
            pass
        return False

    def check_fatal_state(self):
        """After a restart of corrald: every instance whose last recorded
        exit was fatal, with no reset or restart since, must be FATAL."""
        time.sleep(0.5)  # the start queue drains
        try:
            db = self.state_db()
            last = db.execute(
                "SELECT agent, instance, class, time_ms, pid FROM events"
                " WHERE id IN (SELECT max(id) FROM events WHERE kind ="
                " 'exit' GROUP BY agent, instance)").fetchall()
            resets = collections.defaultdict(list)
            for a, t in db.execute(
                    "SELECT agent, time_ms FROM events WHERE kind ="
                    " 'breaker' AND detail LIKE 'reset by %'"):
                resets[a].append(t / 1000.0 - self.wall0)
            db.close()
        except sqlite3.Error as e:
            self.health.append("state database unreadable after corrald's "
                               "restart #%d: %s" % (self.cd_n, e))
            return
        want = {}
        for agent, k, cls, t, pid in last:
            te = t / 1000.0 - self.wall0
            inst = "%s.%d" % (agent, k)
            if cls != "fatal" or any(r > te for r in resets[agent]) or \
                    self.cleared_after(agent, inst, te) or \
                    self.started_since(inst, te):
                continue
            want[inst] = (pid, te)
        if not want:
            return
        j = self.status()
        if j is None:
            return
        for w in j.get("workers", []):
            inst = w.get("name")
            if inst in want and w.get("state") != "FATAL":
                pid, te = want[inst]
                self.fatal_states.append(
                    "%s: its run (pid %d) exited fatal at %s, recorded; no "
                    "reset since; after corrald's SIGKILL and restart #%d "
                    "(pid %d) it is %s (breaker %s, last exit %s, failures "
                    "%s), not FATAL" % (
                        inst, pid, self.stamp(te), self.cd_n, self.cd.pid,
                        w.get("state"), w.get("breaker"),
                        json.dumps(w.get("last_exit")), w.get("failures")))

    # -- the run

    def schedule(self):
        m = self.mode
        inject = m["inject"]
        without = self.without
        kills = 0 if "kill_corrald" in without else m["kills"]
        kinds = []
        for k, n in m["minimum"].items():
            if k != "kill_corrald" and k not in without:
                kinds += [k] * n
        total = max(int(inject * m["rate"]), m["min_total"] + 20)
        names = sorted(k for k in WEIGHTS if k not in without)
        while len(kinds) < total - 2 * kills:
            kinds.append(self.rng_sched.choices(
                names, [WEIGHTS[n] for n in names])[0])
        events = [(self.rng_sched.uniform(0.5, inject), k) for k in kinds]
        for i in range(kills):
            slot = inject / m["kills"]
            t = slot * (i + 0.5) + self.rng_sched.uniform(-0.3, 0.3) * slot
            events.append((t, "kill_corrald"))
            # A fatal exit just before: is FATAL remembered across it?
            if "exit_fatal" not in without:
                events.append((t - self.rng_sched.uniform(0.3, 1.0),
                               "exit_fatal"))
        events.sort()
        return events

    def inject(self, kind):
        if kind in WORKER_SIGNALS or kind in ("kill_worker", "sigstop"):
            self.worker_fault(kind)
        elif kind == "kill_corrald":
            self.kill_corrald()
        elif kind == "reexec":
            self.reexec()
        elif kind == "reload":
            self.reload()
        elif kind == "restart":
            self.restart()

    def run(self):
        with open(self.fleet, "w") as f:
            f.write(fleet_text(self, self.variant))
        self.sampler.start()
        self.start_corrald()
        if not self.corrald_up(20):
            return False
        time.sleep(1.0)  # the fleet comes up
        events = self.schedule()
        self.say("injecting %d faults over %.0fs" % (len(events),
                                                      self.mode["inject"]))
        start = mono()
        next_reset = start + 2.0
        # On a loaded machine the harness may fall behind its schedule: an
        # event more than LATE seconds late is dropped (unless its kind has
        # not yet reached its minimum), and the phase ends
        # at a quarter past its length whatever is left (both counted as
        # skipped, and coverage says if too few faults were delivered).
        end = start + 1.25 * self.mode["inject"]
        i = 0
        while i < len(events):
            if self.over_hard_limit():
                return False
            now = mono()
            if now > end:
                for _, kind in events[i:]:
                    self.op(kind, False, why="out of time")
                self.say("injection phase out of time: %d faults dropped" % (
                    len(events) - i))
                break
            due = min(start + events[i][0], next_reset)
            if due > now:
                time.sleep(min(due - now, 0.5))
            self.check_corrald()
            if mono() >= next_reset:
                self.reset_fatal()
                next_reset = mono() + self.rng.uniform(2.0, 4.0)
            if start + events[i][0] <= mono():
                t, kind = events[i]
                i += 1
                # A kind still short of its minimum is delivered late
                # rather than dropped: its coverage matters, its moment
                # does not.
                if (mono() - (start + t) > LATE and kind != "kill_corrald"
                        and self.faults[kind] >=
                        self.mode["minimum"].get(kind, 0)):
                    self.op(kind, False, why="late")
                    continue
                t0 = mono()
                self.inject(kind)
                if kind == "kill_corrald":
                    # The schedule waits while corrald comes back (its
                    # recovery stops the runs left alive, up to their
                    # stop_timeout): that is not the harness falling
                    # behind.  The hard limit still bounds the run.
                    spent = mono() - t0
                    start += spent
                    end += spent
                    next_reset += spent
                if self.args.progress and sum(self.faults.values()) % 100 == 0:
                    self.say("%d faults delivered" % sum(self.faults.values()))
        # Quiesce: everything continued, FATAL agents reset, a moment of
        # work, so that the stop below finds a fleet at work.
        self.say("faults done (%d delivered); settling" % sum(
            self.faults.values()))
        self.cont_due(all_of_them=True)
        self.check_corrald()
        self.reset_fatal(every_open=True)
        time.sleep(self.mode["settle"])
        self.check_corrald()
        return True

    def shutdown(self):
        """corralctl shutdown; corrald must exit 0 within a bound."""
        self.cont_due(all_of_them=True)
        self.expect_exit = True
        t = mono()
        rc, out, err = self.ctl("shutdown", timeout=45)
        try:
            status = self.cd.wait(timeout=max(1.0, min(
                45.0, self.hard_deadline - mono())))
        except subprocess.TimeoutExpired:
            self.health.append("corrald #%d (pid %d) still running 45s "
                               "after corralctl shutdown (status %s: %s)" % (
                                   self.cd_n, self.cd.pid, rc,
                                   (err or out).strip()))
            self.cd.kill()
            status = self.cd.wait()
        self.forget(self.cd)
        if status != 0:
            self.health.append("corrald #%d exited %s at shutdown "
                               "(corralctl: status %s: %s)" % (
                                   self.cd_n, status, rc, (err or out).strip()))
        self.say("shut down in %.1fs (corralctl status %s, corrald status "
                 "%s)" % (mono() - t, rc, status))

    def leftovers(self):
        """Our processes still there after corrald exited: a short grace for
        those already exiting, then each is a violation, then killed."""
        end = mono() + 3.0
        while True:
            time.sleep(0.1)
            snap = self.sampler.snapshot()
            rest = [p for p in snap.values()
                    if not (p.state == "Z" and p.ppid == self.me)]
            if not rest or mono() > end:
                break
        for p in sorted(rest, key=lambda p: (p.inst or "", p.pid)):
            lead = int(p.run.split(":")[1]) if p.run else None
            self.violations["leftovers"].append(
                "%s: %s, run %s, still there 3s after corrald exited%s" % (
                    p.inst or p.comm, p.brief(self), p.run,
                    "" if lead is None else " (its run's main, pid %d, is "
                    "%s)" % (lead, "alive" if lead in snap else "gone")))
        self.kill_ours()

    def kill_ours(self):
        """SIGKILL every process of ours (by its CHAOS_TAG), then wait for
        them to be gone, reaping what comes to us; bounded."""
        end = mono() + 10.0
        while mono() < end:
            left = []
            for name in os.listdir("/proc"):
                if not name.isdigit() or int(name) == self.me:
                    continue
                pid = int(name)
                env = read_env(pid)
                st = read_stat(pid)
                if env is None or st is None or env.get("CHAOS_TAG") != self.tag:
                    continue
                left.append(pid)
                try:
                    fd = os.pidfd_open(pid)
                    st2 = read_stat(pid)
                    if st2 is not None and st2.start == st.start:
                        signal.pidfd_send_signal(fd, signal.SIGKILL)
                    os.close(fd)
                except OSError:
                    pass
            while True:
                try:
                    wpid, _ = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if wpid == 0:
                    break
            if not left:
                return True
            time.sleep(0.05)
        return False


# ---------------------------------------------------------------- checks

def read_journals(h):
    """run -> dict(inst, events [(event, mono_s, n, extra)])"""
    runs = {}
    for name in sorted(os.listdir(h.journal_dir)):
        with open(os.path.join(h.journal_dir, name), "rb") as f:
            for raw in f:
                parts = raw.decode("utf-8", "replace").split()
                if len(parts) < 4 or not parts[0].isdigit():
                    continue
                t, ev, run = int(parts[0]) / 1000.0, parts[1], parts[2]
                n = int(parts[3][2:]) if parts[3].startswith("n=") else None
                r = runs.setdefault(run, dict(inst=run.split(":")[0],
                                              pid=int(run.split(":")[1]),
                                              events=[]))
                r["events"].append((ev, t, n, " ".join(parts[4:])))
    return runs


def payload(blob):
    try:
        return json.loads(bytes(blob).decode())
    except (ValueError, UnicodeDecodeError, TypeError):
        return None


def check_checkpoints(h, journals, out):
    """Properties 'chain exact' and 'no forks'.  Returns (threads, rows)."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(
        h.T, "corral-checkpoints.db"), uri=True)
    rows = collections.defaultdict(dict)
    for tid, cid, parent, data, created in db.execute(
            "SELECT thread_id, checkpoint_id, parent_checkpoint_id,"
            " checkpoint, created_ms FROM checkpoints"
            " WHERE checkpoint_ns = ''"):
        rows[tid][cid] = (parent, payload(data), created)
    db.close()
    total = 0
    for tid in sorted(rows):
        r = rows[tid]
        total += len(r)
        latest = max(r)
        chain, seen, cur, bad = [], set(), latest, None
        while cur is not None:
            if cur in seen:
                bad = "a cycle at %s" % cur
                break
            if cur not in r:
                bad = "dangling parent %s" % cur
                break
            seen.add(cur)
            parent, pl, _ = r[cur]
            chain.append((cur, pl))
            cur = parent
        vals = [pl.get("n") if isinstance(pl, dict) else None
                for _, pl in chain]
        if bad is None:
            for i, v in enumerate(vals):
                if v != len(vals) - i:
                    cid, pl = chain[i]
                    prev = chain[i - 1] if i > 0 else None
                    bad = ("position %d from the latest: checkpoint %s reads "
                           "n=%s (run %s), expected %d%s" % (
                               i, cid, v, pl.get("run") if isinstance(
                                   pl, dict) else pl, len(vals) - i,
                               "; its child %s reads n=%s" % (
                                   prev[0], prev[1].get("n")) if prev else ""))
                    break
        if bad is not None:
            out["chain exact"].append(
                "thread %s: chain of %d from latest %s (n=%s): %s" % (
                    tid, len(chain), latest, vals[0] if vals else None, bad))
        # Forks: every checkpoint on the chain, none with two children.
        children = collections.defaultdict(list)
        for cid, (parent, pl, created) in r.items():
            if parent is not None:
                children[parent].append(cid)
        off = [cid for cid in r if cid not in seen]
        if not off:
            continue
        forks = sorted((p for p, cs in children.items() if len(cs) > 1),
                       key=lambda p: r[p][1].get("n", 0) if isinstance(
                           r[p][1], dict) else 0)
        onchain_n = {pl.get("n") for _, pl in chain if isinstance(pl, dict)}
        dup = sum(1 for cid in off if isinstance(r[cid][1], dict)
                  and r[cid][1].get("n") in onchain_n)
        runs_off = sorted({r[cid][1].get("run") for cid in off
                           if isinstance(r[cid][1], dict)})
        msg = ("thread %s: %d of %d checkpoints off the chain from the latest "
               "(n=%s): %d repeat a step of the chain, %d fork points; runs "
               "that wrote off-chain steps: %s" % (
                   tid, len(off), len(r), vals[0] if vals else None, dup,
                   len(forks), ", ".join(runs_off[:6]) + (
                       " ..." if len(runs_off) > 6 else "")))
        if forks:
            p = forks[0]
            pn = r[p][1].get("n") if isinstance(r[p][1], dict) else None
            kids = []
            for c in sorted(children[p]):
                pl = r[c][1] if isinstance(r[c][1], dict) else {}
                run = pl.get("run")
                j = journals.get(run, {})
                evs = j.get("events", [])
                start = [e for e in evs if e[0] == "start"]
                kids.append("%s n=%s by run %s (written %s, on chain: %s; "
                            "run started %s, %s)" % (
                                c, pl.get("n"), run,
                                h.stamp(r[c][2] / 1000.0 - h.wall0),
                                c in seen,
                                h.stamp(start[0][1]) if start else "?",
                                start[0][3] if start else "?"))
            msg += "; first fork at %s (n=%s): children %s" % (
                p, pn, "; ".join(kids))
        out["no forks"].append(msg)
    return len(rows), total


def check_integrity(h, out):
    for prop, name in (("state db integrity", "corral-state.db"),
                       ("checkpoint db integrity", "corral-checkpoints.db")):
        path = os.path.join(h.T, name)
        try:
            db = sqlite3.connect(path)
            res = [r[0] for r in db.execute("PRAGMA integrity_check")]
            db.close()
        except sqlite3.Error as e:
            res = ["error: %s" % e]
        if res != ["ok"]:
            out[prop].append("%s: %s" % (name, "; ".join(res[:10])))


def check_breakers(h, out):
    db = sqlite3.connect(os.path.join(h.T, "corral-state.db"))
    table = {n: (s, r, t) for n, s, r, t in db.execute(
        "SELECT name, state, reason, time_ms FROM breakers")}
    last = {}
    for eid, name, state, prev, detail, t in db.execute(
            "SELECT id, agent, state, prev_state, detail, time_ms FROM events"
            " WHERE kind = 'breaker' ORDER BY id"):
        last[name] = (state, prev, detail, t, eid)
    daemon = [(t, s, pid) for t, s, pid in db.execute(
        "SELECT time_ms, state, pid FROM events WHERE kind = 'daemon'"
        " ORDER BY id")]
    db.close()
    for name in sorted(set(table) | set(last)):
        row = table.get(name, ("CLOSED", "(no row)", None))
        ev = last.get(name, ("CLOSED", None, "(no event)", None, None))
        if row[0] == ev[0]:
            continue
        near = [d for d in daemon if ev[3] is not None and d[0] >= ev[3]]
        out["breakers match events"].append(
            "breaker %s: table says %s (reason %r, saved %s) but its last "
            "event (id %s, %s -> %s, %r, at %s) says %s; next daemon event "
            "after it: %s" % (
                name, row[0], row[1], h.stamp(row[2] / 1000.0 - h.wall0)
                if row[2] else "?", ev[4], ev[1], ev[0], ev[2],
                h.stamp(ev[3] / 1000.0 - h.wall0) if ev[3] else "?", ev[0],
                "%s (pid %s) at %s" % (near[0][1], near[0][2], h.stamp(
                    near[0][0] / 1000.0 - h.wall0)) if near else "none"))


def exit_events(h):
    """pid -> [exit event rows] from the state database."""
    db = sqlite3.connect(os.path.join(h.T, "corral-state.db"))
    ex = collections.defaultdict(list)
    for agent, inst, pid, cls, code, sig, t in db.execute(
            "SELECT agent, instance, pid, class, code, signal, time_ms"
            " FROM events WHERE kind = 'exit'"):
        ex[pid].append(dict(agent=agent, inst=inst, cls=cls, code=code,
                            sig=sig, t=t / 1000.0 - h.wall0))
    db.close()
    return ex


def death_of(h, run, j, exits, reaped):
    """How a run ended, as far as anyone recorded it."""
    pid = int(run.split(":")[1])
    start = j["events"][0][1] if j["events"] else 0
    for r in reaped:
        if r["run"] == run:
            what, v = r["how"]
            return ("reaped as an orphan by the harness at %s: %s" % (
                h.stamp(r["t"]), ("killed by signal %d (%s)" % (
                    v, signal.Signals(v).name) if what == "signal"
                    else "exit %d" % v)), r["how"])
    for e in exits.get(pid, []):
        if e["t"] >= start - 1:
            how = ("signal", e["sig"]) if e["sig"] else ("exit", e["code"])
            return ("corrald recorded its exit at %s: class %s, %s" % (
                h.stamp(e["t"]), e["cls"], "signal %s" % e["sig"]
                if e["sig"] else "code %s" % e["code"]), how)
    return ("no record of its end (corrald may have died before writing "
            "it)", None)


def check_stops(h, journals, out):
    """Property 'stop honoured': a run that received its stop signal wrote
    its final checkpoint and was not killed by its output pipe, unless the
    harness killed, stopped or told it to exit."""
    exits = exit_events(h)
    reaped = h.sampler.reaped
    alive_end = {p.run for p in h.end_snapshot.values() if p.role == "main"}
    for run, j in sorted(journals.items()):
        kinds = [e[0] for e in j["events"]]
        if "stopsig" not in kinds:
            continue
        # Excused: a run the harness killed, stopped or told to exit, one
        # whose checkpoint failed, one past the agents' deadline.
        if any(k in INTERFERE for k, _ in h.touched.get(run, ())) or \
                {"exit", "ckfail", "deadline"} & set(kinds):
            continue
        t_sig = [e for e in j["events"] if e[0] == "stopsig"][0]
        final = [e for e in j["events"] if e[0] == "final"]
        if run in alive_end:
            continue  # a leftover: reported there
        how, raw = death_of(h, run, j, exits, reaped)
        if not final:
            out["stop honoured"].append(
                "%s: run %s received its stop signal at %s (n=%s) and wrote "
                "no final checkpoint; last step journaled n=%s; %s" % (
                    j["inst"], run, h.stamp(t_sig[1]), t_sig[2],
                    max((e[2] for e in j["events"] if e[2] is not None),
                        default=None), how))
        elif raw == ("signal", signal.SIGPIPE):
            out["stop honoured"].append(
                "%s: run %s wrote its final checkpoint (n=%s at %s) after "
                "its stop signal (%s), then its output pipe killed it: %s" % (
                    j["inst"], run, final[0][2], h.stamp(final[0][1]),
                    h.stamp(t_sig[1]), how))


def check_fatal(h, journals, out):
    """Property 'fatal remembered': an instance whose fatal exit corrald
    recorded is not started again before a reset or an operator's restart
    of it, across restarts of corrald too."""
    db = sqlite3.connect(os.path.join(h.T, "corral-state.db"))
    fatal = [(a, i, pid, t / 1000.0 - h.wall0) for a, i, pid, t in db.execute(
        "SELECT agent, instance, pid, time_ms FROM events WHERE kind = 'exit'"
        " AND class = 'fatal' ORDER BY id")]
    resets = collections.defaultdict(list)
    for a, t in db.execute("SELECT agent, time_ms FROM events WHERE kind ="
                           " 'breaker' AND detail LIKE 'reset by %'"):
        resets[a].append(t / 1000.0 - h.wall0)
    db.close()
    for o in h.ops:
        if o["kind"] == "reset" and o["ok"]:
            resets[o["agent"]].append(o["t"])  # when it was asked
    restarts = collections.defaultdict(list)
    for o in h.ops:
        if o["kind"] == "restart" and o["ok"]:
            restarts[o["inst"]].append(o["t"])
    starts = collections.defaultdict(list)
    for run, j in journals.items():
        for e in j["events"]:
            if e[0] == "start":
                starts[j["inst"]].append((e[1], run))
    for agent, inst, pid, t in fatal:
        name = "%s.%d" % (agent, inst)
        later = sorted(s for s in starts[name] if s[0] > t)
        if not later:
            continue
        t2, run = later[0]
        if any(t - 0.5 <= r <= t2 for r in resets[agent] + restarts[name]):
            continue
        between = [p for tt, p in h.cd_starts if t < tt < t2]
        out["fatal remembered"].append(
            "%s: exit of pid %d classed fatal at %s, then run %s started at "
            "%s with no reset or restart in between; corrald (re)starts in "
            "between: %s" % (name, pid, h.stamp(t), run, h.stamp(t2),
                             ", ".join("pid %d" % p for p in between)
                             or "none"))


def check_overlaps(h, out):
    for rec in sorted(h.sampler.overlaps.values(), key=lambda r: r["first"]):
        kills = [k for k in h.cd_kills if k <= rec["first"]]
        out["one live run per instance"].append(
            "%s: %d runs alive together from %s to %s (%d samples)%s:\n%s" % (
                rec["inst"], len(rec["runs"]), h.stamp(rec["first"]),
                h.stamp(rec["last"]), rec["samples"],
                "; last SIGKILL of corrald before: %s" % h.stamp(kills[-1])
                if kills else "",
                "\n".join("        run %s: %s" % (r, "; ".join(ps))
                          for r, ps in sorted(rec["procs"].items()))))


PROPERTIES = ["chain exact", "no forks", "one live run per instance",
              "no leftovers", "state db integrity", "checkpoint db integrity",
              "breakers match events", "stop honoured", "fatal remembered",
              "corrald healthy", "coverage"]


def report(h, out, stats):
    print()
    print("== faults injected (seed %d, %s mode)" % (
        h.seed, "short" if h.args.short else "full"))
    print("  %-16s %9s %8s" % ("kind", "delivered", "skipped"))
    for k in KINDS:
        print("  %-16s %9d %8d" % (k, h.faults[k], h.skipped[k]))
    print("  %-16s %9d %8d" % ("total", sum(h.faults.values()),
                               sum(h.skipped.values())))
    s = h.sampler
    d = sorted(s.durations) or [0.0]
    print("== sampler: %d sweeps of /proc, each %.0f ms median, %.0f ms at "
          "p95, %.0f ms at most; at most %.0f ms from one sweep to the next; "
          "%d candidate overlaps explained by a dying process, %d gone at "
          "confirmation; %d orphans reaped" % (
              s.sweeps, 1000 * d[len(d) // 2], 1000 * d[len(d) * 95 // 100],
              1000 * d[-1], 1000 * s.cycle_max, s.dying_skipped,
              s.unconfirmed, len(s.reaped)))
    print("== work: %d threads, %d checkpoints, %d runs journaled" % stats)
    print("== violations")
    nviol = 0
    for prop in PROPERTIES:
        v = out.get(prop, [])
        if not v:
            continue
        print("-- %s: %d" % (prop, len(v)))
        by = collections.Counter()
        for line in v:
            m = re.match(r"(?:thread |breaker )?([A-Za-z0-9_-]+)[./:]", line)
            by[m.group(1) if m else "-"] += 1
        if len(by) > 1 or len(v) > 1:
            print("   by agent: " + ", ".join("%s %d" % kv
                                             for kv in sorted(by.items())))
        if prop == "stop honoured":
            lost = sum("wrote no final checkpoint" in line for line in v)
            print("   no final checkpoint: %d; killed by SIGPIPE after it: %d"
                  % (lost, len(v) - lost))
        for line in v[:h.args.show]:
            print("   - " + line)
        if len(v) > h.args.show:
            print("   ... and %d more (all in %s/violations.txt)" % (
                len(v) - h.args.show, h.T))
        nviol += len(v)
    if nviol == 0:
        print("   none")
    print("== properties")
    passed = failed = 0
    for prop in PROPERTIES:
        ok = not out.get(prop)
        print("%s %s" % ("PASS" if ok else "FAIL", prop))
        passed += ok
        failed += not ok
    return passed, failed


def coverage(h, stats, out):
    m = h.mode
    for k, n in m["minimum"].items():
        if k in h.without:
            continue
        if h.faults[k] < n:
            out["coverage"].append("only %d %s delivered, %d wanted" % (
                h.faults[k], k, n))
    if sum(h.faults.values()) < m["min_total"] and not h.without:
        out["coverage"].append("only %d faults delivered, %d wanted" % (
            sum(h.faults.values()), m["min_total"]))
    if h.faults["reset"] < 1 and not {"reset", "exit_fatal"} & h.without:
        out["coverage"].append("no reset of a FATAL agent happened")
    ninst = sum(n for name, _, n, _, _ in AGENTS if name != "backup")
    if stats[0] < ninst:
        out["coverage"].append("only %d threads checkpointed, %d instances" % (
            stats[0], ninst))
    if h.sampler.error:
        out["coverage"].append("the sampler failed: %s" % h.sampler.error)
    # A gap between sweeps is a window in which an overlap of runs could
    # hide.  One stall of a little over 1 s in a run of a minute (the
    # sanitized build on two shared cores has them) leaves the rest seen;
    # a longer one, or several, make the run blind.
    if h.sampler.cycle_max > 2.0 or h.sampler.blind > 2.0:
        out["coverage"].append("the sampler paused %.0f ms between two "
                               "sweeps, %.0f ms in all in gaps over 1 s" % (
                                   1000 * h.sampler.cycle_max,
                                   1000 * h.sampler.blind))


def set_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int,
                    default=int.from_bytes(os.urandom(4), "big") % 1000000)
    ap.add_argument("--short", action="store_true",
                    help="about 35 s, fewer faults of every kind")
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--keep", action="store_true",
                    help="keep the directory even on success")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("--period", type=float, default=20.0,
                    help="sampler period in ms (default 20)")
    ap.add_argument("--breakers", choices=("on", "off"), default="on",
                    help="off: CIRCUIT_BREAKER_ENABLED=false for corrald")
    ap.add_argument("--without", default="",
                    help="kinds of fault left out, comma-separated (a control"
                    " run: --without kill_corrald)")
    ap.add_argument("--debug-sampler", action="store_true",
                    help="print the sampler's figures every 50 sweeps")
    ap.add_argument("--show", type=int, default=8,
                    help="violations printed per property (default 8)")
    args = ap.parse_args()
    for b in ("corrald", "corralctl", "chaos/agent"):
        if not os.access(os.path.join(args.build, b), os.X_OK):
            sys.exit("chaos: %s/%s missing: make chaos builds it" % (
                args.build, b))
    set_subreaper()

    def on_term(sig, frame):
        raise KeyboardInterrupt("signal %d" % sig)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    h = Harness(args)
    replay = " ".join(([" --short"] if args.short else []) + (
        ["--breakers off"] if args.breakers == "off" else []) + (
        ["--without " + args.without] if args.without else [])).strip()
    h.replay = "make chaos SEED=%d%s" % (h.seed, " CHAOS_ARGS='%s'" % replay
                                         if replay else "")
    print("chaos: seed %d (replay: %s), directory %s" % (h.seed, h.replay,
                                                          h.T), flush=True)

    def hard_limit():
        print("chaos: hard limit of %.0fs reached: killing everything of "
              "this run; files kept in %s" % (h.mode["hard"], h.T),
              flush=True)
        h.kill_ours()
        os._exit(2)

    timer = threading.Timer(h.mode["hard"], hard_limit)
    timer.daemon = True
    timer.start()
    out = collections.defaultdict(list)
    try:
        ran = h.run()
        if not ran:
            h.health.append("the run did not complete (see above)")
        if h.cd.poll() is None:
            h.shutdown()
        h.end_snapshot = h.sampler.snapshot()
        h.leftovers()
    finally:
        h.sampler.stop_ev.set()
        h.sampler.join(5)
        h.cont_due(all_of_them=True)
        h.kill_ours()
    for v in h.violations["leftovers"]:
        out["no leftovers"].append(v)
    journals = read_journals(h)
    stats = check_checkpoints(h, journals, out) + (len(journals),)
    check_overlaps(h, out)
    check_integrity(h, out)
    check_breakers(h, out)
    check_stops(h, journals, out)
    check_fatal(h, journals, out)
    out["fatal remembered"] += h.fatal_states
    out["corrald healthy"] += h.health
    coverage(h, stats, out)
    timer.cancel()
    with open(os.path.join(h.T, "violations.txt"), "w") as f:
        for prop in PROPERTIES:
            for line in out.get(prop, []):
                f.write("%s: %s\n" % (prop, line))
    with open(os.path.join(h.T, "ops.json"), "w") as f:
        json.dump([dict(o, t=round(o["t"] - h.t0, 3)) for o in h.ops], f,
                  indent=0)
    passed, failed = report(h, out, stats)
    took = mono() - h.t0
    if failed or args.keep:
        print("chaos: files kept in %s (corrald.log, log/, journal/, the "
              "databases, ops.json, violations.txt)" % h.T)
    else:
        shutil.rmtree(h.T, ignore_errors=True)
    print("chaos: seed %d, %.0fs; replay with: %s" % (h.seed, took, h.replay))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as e:
        print("chaos: interrupted (%s): everything of this run killed; its "
              "directory is kept" % (e or "SIGINT"))
        sys.exit(130)
