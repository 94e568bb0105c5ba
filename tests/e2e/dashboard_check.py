#!/usr/bin/python3
"""dashboard_check.py: corrald's dashboard in a real browser.

Drives Debian's headless Chromium through its chromedriver (WebDriver
spoken over HTTP with urllib: Debian packages only, no selenium).  Two
modes:

  check URL --ctl CORRALCTL --socket SOCK --token T --start AGENT
        --crashing W
      Loads the page, types the bearer token into its prompt, waits for the
      fleet to show, runs corralctl start AGENT (the crash-looping agent, not
      started by corrald), waits for a crash of worker W to come into the
      event list, and for W's breaker to open, then checks what the page
      shows against corralctl status --json: the workers, their states, breakers,
      restarts, PIDs, last exits, clusters and health, the totals, and that
      what workers said is shown as text.

  shot URL PNG
      Loads the page (no token), waits for a crash in the event list and
      saves a screenshot to PNG.

Every wait has a deadline; the whole run is bounded by --deadline seconds.
chromedriver and the Chromium it starts run in a process group of their
own, and only that group (and what descends from chromedriver) is killed
at the end.  A browser that cannot be found or started fails the run: the
issue requires this test, it is never skipped.
"""
import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class Fail(Exception):
    pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def descendants(root):
    """Every process whose parent chain leads to root."""
    parent = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2:].split()
        parent[int(d)] = int(rest[1])
    out = []
    for p in parent:
        q = parent.get(p)
        while q not in (None, 0, 1):
            if q == root:
                out.append(p)
                break
            q = parent.get(q)
    return out


class Browser:
    def __init__(self, deadline, width, height):
        self.deadline = deadline
        self.size = (width, height)
        self.proc = None
        self.session = None
        self.tmp = tempfile.mkdtemp(prefix="corral-chromium.")
        self.log = os.path.join(self.tmp, "chromedriver.log")

    def left(self):
        return self.deadline - time.monotonic()

    def start(self):
        driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        for name, path in (("chromedriver", driver), ("chromium", chromium)):
            if not os.access(path, os.X_OK):
                raise Fail(f"{name} is not installed (make deps installs "
                           f"Debian's chromium and chromium-driver)")
        self.port = free_port()
        env = dict(os.environ, HOME=self.tmp,
                   XDG_CONFIG_HOME=os.path.join(self.tmp, "config"),
                   XDG_CACHE_HOME=os.path.join(self.tmp, "cache"))
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
        self.proc = subprocess.Popen(
            [driver, f"--port={self.port}", f"--log-path={self.log}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=env, start_new_session=True)
        until = time.monotonic() + min(15, self.left())
        while True:
            try:
                if self.call("GET", "/status", timeout=2).get("ready"):
                    break
            except (OSError, Fail):
                pass
            if self.proc.poll() is not None:
                raise Fail(f"chromedriver exited {self.proc.returncode} at "
                           f"start:\n{self.driver_log()}")
            if time.monotonic() > until:
                raise Fail("chromedriver did not answer within 15s:\n" +
                           self.driver_log())
            time.sleep(0.1)
        args = ["--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--hide-scrollbars",
                "--disable-crash-reporter", "--disable-breakpad",
                "--force-device-scale-factor=1",
                f"--window-size={self.size[0]},{self.size[1]}",
                f"--user-data-dir={os.path.join(self.tmp, 'profile')}",
                f"--crash-dumps-dir={os.path.join(self.tmp, 'crashes')}"]
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"script": 5000, "pageLoad": 15000},
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}}
        try:
            v = self.call("POST", "/session", caps, timeout=min(30, self.left()))
        except Fail as e:
            raise Fail(f"Chromium did not start: {e}\n{self.driver_log()}")
        self.session = v["sessionId"]
        # The window holds the viewport: make the viewport width x height.
        inner = self.js("return [window.innerWidth, window.innerHeight];")
        if inner != list(self.size):
            rect = self.s("GET", "/window/rect")
            self.s("POST", "/window/rect", {
                "width": rect["width"] + self.size[0] - inner[0],
                "height": rect["height"] + self.size[1] - inner[1]})

    def driver_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-30:])
        except OSError:
            return "(no chromedriver log)"

    def call(self, method, path, body=None, timeout=20):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
            headers={"Content-Type": "application/json"})
        timeout = max(1, min(timeout, self.left()))
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.load(r).get("value")
        except urllib.error.HTTPError as e:
            try:
                v = json.load(e).get("value", {})
                msg = f"{v.get('error')}: {v.get('message', '')[:400]}"
            except ValueError:
                msg = str(e)
            raise Fail(f"WebDriver {method} {path}: {msg}")

    def s(self, method, path, body=None, timeout=20):
        return self.call(method, f"/session/{self.session}{path}", body,
                         timeout)

    def js(self, script, *args):
        return self.s("POST", "/execute/sync",
                      {"script": script, "args": list(args)})

    def find(self, css):
        v = self.s("POST", "/element", {"using": "css selector",
                                         "value": css})
        if not isinstance(v, dict) or ELEMENT not in v:
            raise Fail(f"no element {css}: {v!r}")
        return v[ELEMENT]

    def quit(self):
        if self.session is not None:
            try:
                self.call("DELETE", f"/session/{self.session}", timeout=10)
            except (OSError, Fail):
                pass
            self.session = None
        if self.proc is not None:
            pids = descendants(self.proc.pid)
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            self.proc.wait()
            self.proc = None
        shutil.rmtree(self.tmp, ignore_errors=True)


# What the page shows, read from its DOM as text (what a reader sees).
READ = r"""
const text = (e) => e ? e.textContent : null;
const out = {workers: [], clusters: [], totals: {}, events: []};
for (const tr of document.querySelectorAll('#workers tbody tr')) {
  const o = {};
  for (const td of tr.cells) o[td.dataset.col] = td.textContent;
  o._markup = tr.querySelector('td[data-col="note"]').children.length;
  out.workers.push(o);
}
for (const tr of document.querySelectorAll('#clusters tbody tr')) {
  const o = {};
  for (const td of tr.cells) o[td.dataset.col] = td.textContent;
  out.clusters.push(o);
}
for (const li of document.querySelectorAll('#totals li'))
  out.totals[li.dataset.total] = [text(li.querySelector('b')), li.textContent];
for (const li of document.querySelectorAll('#events li'))
  out.events.push({id: Number(li.dataset.id), kind: li.dataset.kind,
    who: li.dataset.who, cls: li.dataset.class || null,
    text: li.textContent});
out.login = !document.getElementById('login').hidden;
out.updated = Number(document.body.dataset.updated || 0);
out.conn = text(document.getElementById('conn'));
out.images = document.querySelectorAll('img').length;
out.title = document.title;
out.now = Date.now();
return out;
"""


def wait_for(b, what, pred, seconds):
    """Read the page until pred(view) is true; fail naming what."""
    until = time.monotonic() + min(seconds, b.left())
    while True:
        v = b.js(READ)
        if pred(v):
            return v
        if time.monotonic() > until:
            raise Fail(f"waited {seconds}s for {what}; the page shows:\n"
                       + json.dumps(v, indent=1)[:3000])
        time.sleep(0.2)


def row(v, name):
    for w in v["workers"]:
        if w.get("name") == name:
            return w
    return None


def ctl_status(ctl):
    r = subprocess.run(ctl + ["status", "--json"], capture_output=True,
                       text=True, timeout=10)
    if r.returncode != 0:
        raise Fail(f"corralctl status --json: {r.stderr.strip()}")
    return json.loads(r.stdout)


def expect_exit(x):
    if x is None:
        return "-"
    if x["signal"] > 0:
        try:
            return f"{x['class']} ({signal.Signals(x['signal']).name})"
        except ValueError:
            return f"{x['class']} (signal {x['signal']})"
    return f"{x['class']} ({x['code']})"


def shown(x):
    return "-" if x is None or x == "" else str(x)


def compare(v, st):
    """What the page shows against status: a list of differences."""
    bad = []
    names = sorted(w["name"] for w in st["workers"])
    if sorted(w.get("name") for w in v["workers"]) != names:
        bad.append(f"workers {[w.get('name') for w in v['workers']]}, "
                   f"status has {names}")
    for w in st["workers"]:
        r = row(v, w["name"])
        if r is None:
            continue
        want = {"state": w["state"], "breaker": shown(w.get("breaker")),
                "restarts": str(w["restarts"]), "pid": shown(w["pid"]),
                "cluster": shown(w["cluster"]),
                "last_exit": expect_exit(w["last_exit"]),
                "failures": f"{w['start_failures']}/{w['runtime_failures']}"}
        for k, x in want.items():
            if r.get(k) != x:
                bad.append(f"{w['name']} {k}: page {r.get(k)!r}, status {x!r}")
        # CPU and memory: a value when status has one, "-" otherwise.
        for col, key in (("memory", "rss_bytes"), ("cpu", "cpu_percent")):
            has = w.get(key) is not None or (col == "cpu" and
                                             w.get("cpu_ms") is not None)
            if (r.get(col) != "-") != has:
                bad.append(f"{w['name']} {col}: page {r.get(col)!r}, "
                           f"status {key} {w.get(key)!r}")
    if len(v["clusters"]) != len(st["clusters"]):
        bad.append(f"{len(v['clusters'])} clusters, status has "
                   f"{len(st['clusters'])}")
    for c, r in zip(st["clusters"], v["clusters"]):
        want = {"name": c["name"], "health": c["health"], "up": str(c["up"]),
                "down": str(c["down"]), "breaker": c["breaker"],
                "min_healthy": str(c["min_healthy"])}
        for k, x in want.items():
            if r.get(k) != x:
                bad.append(f"cluster {c['name']} {k}: page {r.get(k)!r}, "
                           f"status {x!r}")
        t = v["totals"].get("cluster:" + c["name"])
        if t is None or c["health"].lower() not in t[1]:
            bad.append(f"header: cluster {c['name']} {t}, health "
                       f"{c['health']}")
    if v["totals"].get("workers", [None])[0] != str(len(st["workers"])):
        bad.append(f"header: workers {v['totals'].get('workers')}, status "
                   f"has {len(st['workers'])}")
    by_state = {}
    for w in st["workers"]:
        by_state[w["state"]] = by_state.get(w["state"], 0) + 1
    for s, n in by_state.items():
        t = v["totals"].get(s)
        if t is None or t[0] != str(n):
            bad.append(f"header: {s} {t}, status has {n}")
    return bad


def check(b, a):
    ctl = [a.ctl, "-s", a.socket]
    b.s("POST", "/url", {"url": a.url}, timeout=20)
    # With http_token the page asks for it, and shows nothing before.
    v = wait_for(b, "the token prompt", lambda v: v["login"], 10)
    if v["workers"] or v["events"]:
        raise Fail("data shown before the token was given")
    el = b.find("#token")
    b.s("POST", f"/element/{el}/value", {"text": a.token})
    b.s("POST", f"/element/{b.find('#login-form button')}/click", {})
    v = wait_for(b, "the fleet after the token",
                 lambda v: not v["login"] and row(v, a.crashing) and
                 len(v["workers"]) >= 2, 10)
    r = row(v, a.crashing)
    if r["state"] != "STOPPED":
        raise Fail(f"{a.crashing} shows {r['state']}, want STOPPED before "
                   f"it is started")
    seen = max([e["id"] for e in v["events"]] or [0])
    print(f"page: {len(v['workers'])} workers, {len(v['events'])} events "
          f"(newest id {seen}); starting {a.start}")
    r = subprocess.run(ctl + ["start", "--no-wait", a.start], capture_output=True,
                       text=True, timeout=10)
    if r.returncode != 0:
        raise Fail(f"corralctl start --no-wait {a.start}: {r.stderr.strip()}")

    def crashed(v):
        return any(e["kind"] == "exit" and e["who"] == a.crashing and
                   e["cls"] == "crash" and e["id"] > seen
                   for e in v["events"])
    v = wait_for(b, f"a crash of {a.crashing} in the event list", crashed, 15)
    ids = [e["id"] for e in v["events"]]
    if ids != sorted(ids, reverse=True):
        raise Fail(f"events not newest first: {ids[:20]}")
    crash = next(e for e in v["events"] if e["kind"] == "exit" and
                 e["who"] == a.crashing)
    print(f"page: crash in the event list: {crash['text']!r}")
    v = wait_for(b, f"{a.crashing}'s breaker OPEN",
                 lambda v: (row(v, a.crashing) or {}).get("breaker") == "OPEN",
                 15)
    # Compare with corralctl status --json as the page next shows it.
    for attempt in range(5):
        st = ctl_status(ctl)
        asked = int(time.time() * 1000)
        v = wait_for(b, "the page's next update",
                     lambda v: v["updated"] > asked, 10)
        bad = compare(v, st)
        if not bad:
            break
        time.sleep(0.3)
    if bad:
        raise Fail("the page differs from corralctl status --json:\n  " +
                   "\n  ".join(bad))
    r = row(v, a.crashing)
    if int(r["restarts"]) < 1:
        raise Fail(f"{a.crashing} shows {r['restarts']} restarts")
    # What a worker said is shown as text, never as markup.
    said = [w for w in st["workers"] if w.get("status_text")]
    for w in said:
        r = row(v, w["name"])
        if r["note"] != w["status_text"] or r["_markup"] != 0:
            raise Fail(f"{w['name']}'s status text shown as {r['note']!r} "
                       f"({r['_markup']} elements), said "
                       f"{w['status_text']!r}")
    if v["images"] != 0 or v["title"] != "corral dashboard":
        raise Fail(f"markup from a worker got into the page: "
                   f"{v['images']} images, title {v['title']!r}")
    for w in st["workers"]:
        r = row(v, w["name"])
        print(f"page: {w['name']}: {r['state']}, breaker {r['breaker']}, "
              f"{r['restarts']} restarts, last exit {r['last_exit']}, "
              f"cpu {r['cpu']}, memory {r['memory']}")
    for c in v["clusters"]:
        print(f"page: cluster {c['name']}: {c['health']}, {c['up']} up")
    print(f"page: matches corralctl status --json ({len(said)} status "
          f"text{'s' if len(said) != 1 else ''} shown as text)")
    if a.screenshot:
        save_shot(b, a.screenshot)


def save_shot(b, path):
    png = base64.b64decode(b.s("GET", "/screenshot"))
    with open(path, "wb") as f:
        f.write(png)
    print(f"screenshot: {path} ({len(png)} bytes)")


def shot(b, a):
    b.s("POST", "/url", {"url": a.url}, timeout=20)
    wait_for(b, "a crash in the event list",
             lambda v: any(e["kind"] == "exit" and e["cls"] != "success"
                           for e in v["events"]), 20)
    # One more poll: the newest events highlighted, then settled.
    time.sleep(2)
    save_shot(b, a.png)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--deadline", type=float, default=50)
    p.add_argument("--width", type=int, default=1200)
    p.add_argument("--height", type=int, default=800)
    sub = p.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("check")
    c.add_argument("url")
    c.add_argument("--ctl", required=True, help="corralctl")
    c.add_argument("--socket", required=True, help="corrald's socket")
    c.add_argument("--token", required=True)
    c.add_argument("--start", required=True)
    c.add_argument("--crashing", required=True)
    c.add_argument("--screenshot")
    s = sub.add_parser("shot")
    s.add_argument("url")
    s.add_argument("png")
    a = p.parse_args()

    def stop(signum, frame):
        raise SystemExit(f"dashboard_check: signal {signum}")
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    b = Browser(time.monotonic() + a.deadline, a.width, a.height)
    try:
        b.start()
        print("chromium %s: viewport %s" % (
            b.js("return navigator.userAgent.match(/Chrome\\/[0-9.]+/)[0];"),
            b.js("return [window.innerWidth, window.innerHeight];")))
        (check if a.mode == "check" else shot)(b, a)
    except Fail as e:
        print(f"FAIL: {e}")
        return 1
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"FAIL: {e}\n{b.driver_log()}")
        return 1
    finally:
        b.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
