#!/usr/bin/python3
"""deploy_check.py: offline checks of etc/deploy's files, for t_deploy.sh.

  deploy_check.py dockerfile FILE CONTEXT   syntax and structure; prints the
                                            packages the last stage installs
  deploy_check.py k8s FILE OUT              structure of the manifest; writes
                                            its fleet file to OUT; prints
                                            the grace period in seconds
  deploy_check.py nomad FILE OUT NODE       HCL syntax and the job's shape;
                                            writes its fleet file, rendered
                                            for node NODE, to OUT; prints
                                            kill_timeout in seconds

Each error is printed as FILE:LINE: message (LINE 0 when the file as a
whole is wrong), and the exit status is 1.  No linter for Dockerfiles or
HCL is packaged in Debian: these check what a broken file would get wrong
(an unknown instruction, an unbalanced brace, a shell syntax error in a
RUN, a stage or volume that is not there), not a style.
"""
import json
import os
import re
import subprocess
import sys

import yaml

errors = []


def err(path, line, msg):
    errors.append("%s:%d: %s" % (path, line, msg))


def finish():
    for e in errors:
        print(e, file=sys.stderr)
    sys.exit(1 if errors else 0)


# --- Dockerfile -----------------------------------------------------------

INSTRUCTIONS = {"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE",
                "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD",
                "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}


def docker_lines(path):
    """(line number, instruction, arguments), continuations joined."""
    with open(path) as f:
        raw = f.read().split("\n")
    out, cur, start = [], None, 0
    for n, line in enumerate(raw, 1):
        s = line.strip()
        if cur is None and (s == "" or s.startswith("#")):
            continue
        if cur is not None and s.startswith("#"):
            continue  # a comment inside a continued instruction
        if cur is None:
            cur, start = "", n
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        cur += line
        word, _, rest = cur.strip().partition(" ")
        out.append((start, word, rest.strip()))
        cur = None
    if cur is not None:
        err(path, start, "the file ends inside a continued instruction")
    return out


def exec_form(path, n, what, args):
    try:
        v = json.loads(args)
    except ValueError as e:
        err(path, n, "%s: not a JSON array: %s" % (what, e))
        return None
    if not isinstance(v, list) or not v or \
            not all(isinstance(x, str) for x in v):
        err(path, n, "%s: not a non-empty array of strings" % what)
        return None
    return v


def shell_ok(path, n, script):
    r = subprocess.run(["sh", "-n", "-c", script], capture_output=True,
                       text=True)
    if r.returncode != 0:
        err(path, n, "RUN: shell syntax: %s" % r.stderr.strip())


def flags(args):
    """--flag=value words at the start of args, and the rest."""
    fl = {}
    while args.startswith("--"):
        word, _, args = args.partition(" ")
        k, _, v = word[2:].partition("=")
        fl[k] = v
        args = args.strip()
    return fl, args


def check_dockerfile(path, context):
    lines = docker_lines(path)
    stages, packages = [], []
    for i, (n, word, args) in enumerate(lines):
        if word.upper() not in INSTRUCTIONS:
            err(path, n, "unknown instruction '%s'" % word)
            continue
        word = word.upper()
        if not stages and word not in ("FROM", "ARG"):
            err(path, n, "%s before the first FROM" % word)
        if args == "" and word not in ("CMD", "ENTRYPOINT"):
            err(path, n, "%s without arguments" % word)
            continue
        if word == "FROM":
            m = re.fullmatch(r"(?:--platform=\S+\s+)?(\S+)"
                             r"(?:\s+[Aa][Ss]\s+([A-Za-z0-9_.-]+))?", args)
            if m is None:
                err(path, n, "FROM: expected IMAGE [AS NAME]")
            stages.append(m.group(2) if m else None)
            packages = []
        elif word in ("RUN",):
            fl, body = flags(args)
            if body.startswith("["):
                exec_form(path, n, word, body)
            else:
                shell_ok(path, n, body)
                m = re.search(r"apt-get install ([^&;|]*)", body)
                if m:
                    packages += [w for w in m.group(1).split()
                                 if not w.startswith("-")]
        elif word in ("CMD", "ENTRYPOINT"):
            if args.startswith("["):
                exec_form(path, n, word, args)
        elif word == "HEALTHCHECK":
            fl, rest = flags(args)
            if rest != "NONE":
                if not rest.startswith("CMD "):
                    err(path, n, "HEALTHCHECK: expected CMD or NONE")
                elif rest[4:].strip().startswith("["):
                    exec_form(path, n, word, rest[4:].strip())
        elif word in ("COPY", "ADD"):
            fl, rest = flags(args)
            srcs = rest.split()[:-1]
            if len(rest.split()) < 2:
                err(path, n, "%s: expected SOURCE... DEST" % word)
            if "from" in fl:
                if fl["from"] not in stages[:-1]:
                    err(path, n, "%s --from=%s: no stage of that name "
                        "before this one" % (word, fl["from"]))
            else:
                for s in srcs:
                    if not os.path.exists(os.path.join(context, s)):
                        err(path, n, "%s: %s is not in the build context"
                            % (word, s))
        elif word == "STOPSIGNAL":
            if not re.fullmatch(r"SIG[A-Z0-9]+|[0-9]+", args):
                err(path, n, "STOPSIGNAL: not a signal: %s" % args)
    if not stages:
        err(path, 0, "no FROM")
    if not any(w.upper() in ("CMD", "ENTRYPOINT") for _, w, _ in lines):
        err(path, 0, "neither CMD nor ENTRYPOINT: the image runs nothing")
    finish_with(packages)


def finish_with(lines):
    if not errors:
        for x in lines:
            print(x)
    finish()


# --- Kubernetes -----------------------------------------------------------

def need(path, obj, keys, what):
    """obj[keys[0]][keys[1]]..., or None and an error naming what."""
    for k in keys:
        if not isinstance(obj, dict) or k not in obj:
            err(path, 0, "%s: no %s" % (what, ".".join(keys)))
            return None
        obj = obj[k]
    return obj


def check_k8s(path, out):
    with open(path) as f:
        try:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        except yaml.YAMLError as e:
            err(path, getattr(getattr(e, "problem_mark", None), "line", -1)
                + 1, "YAML: %s" % e)
            finish()
    byname = {}
    for d in docs:
        for k in ("apiVersion", "kind", "metadata"):
            if not isinstance(d, dict) or k not in d:
                err(path, 0, "an object without %s" % k)
                finish()
        name = need(path, d, ["metadata", "name"], d["kind"])
        byname[(d["kind"], name)] = d
    ds = [d for d in docs if d["kind"] == "DaemonSet"]
    if len(ds) != 1 or ds[0]["apiVersion"] != "apps/v1":
        err(path, 0, "expected one DaemonSet of apps/v1")
        finish()
    ds = ds[0]
    what = "DaemonSet %s" % ds["metadata"]["name"]
    sel = need(path, ds, ["spec", "selector", "matchLabels"], what) or {}
    labels = need(path, ds, ["spec", "template", "metadata", "labels"],
                  what) or {}
    for k, v in sel.items():
        if labels.get(k) != v:
            err(path, 0, "%s: selector %s=%s does not match the pod "
                "template's labels" % (what, k, v))
    pod = need(path, ds, ["spec", "template", "spec"], what) or {}
    grace = pod.get("terminationGracePeriodSeconds")
    if not isinstance(grace, int):
        err(path, 0, "%s: no terminationGracePeriodSeconds" % what)
    vols = {v.get("name"): v for v in pod.get("volumes", [])}
    fleet = None
    containers = pod.get("initContainers", []) + pod.get("containers", [])
    if not pod.get("containers"):
        err(path, 0, "%s: no containers" % what)
    for c in containers:
        cw = "%s: container %s" % (what, c.get("name"))
        for k in ("name", "image"):
            if k not in c:
                err(path, 0, "%s: no %s" % (cw, k))
        for m in c.get("volumeMounts", []):
            if m.get("name") not in vols:
                err(path, 0, "%s: mounts volume %s, which the pod does "
                    "not have" % (cw, m.get("name")))
        for e in c.get("env", []):
            vf = e.get("valueFrom", {})
            if "secretKeyRef" in vf and not {"name", "key"} <= \
                    set(vf["secretKeyRef"]):
                err(path, 0, "%s: %s: secretKeyRef without name and key"
                    % (cw, e.get("name")))
    main = pod.get("containers", [{}])[0]
    env = {e.get("name"): e for e in main.get("env", [])}
    if need(path, env, ["CORRAL_NODE_NAME", "valueFrom", "fieldRef",
                        "fieldPath"], "corrald's env") != "spec.nodeName":
        err(path, 0, "%s: CORRAL_NODE_NAME is not spec.nodeName" % what)
    if "secretKeyRef" not in env.get("PGPASSWORD", {}).get("valueFrom", {}):
        err(path, 0, "%s: PGPASSWORD does not come from a Secret" % what)
    for probe in ("livenessProbe",):
        if "exec" not in main.get(probe, {}) and \
                "httpGet" not in main.get(probe, {}):
            err(path, 0, "%s: no %s" % (what, probe))
    for v in vols.values():
        cm = v.get("configMap")
        if cm is None:
            continue
        d = byname.get(("ConfigMap", cm.get("name")))
        if d is None:
            err(path, 0, "%s: volume %s: no ConfigMap %s in the file"
                % (what, v["name"], cm.get("name")))
        elif "fleet.ini" in d.get("data", {}):
            fleet = d["data"]["fleet.ini"]
    if fleet is None:
        err(path, 0, "no ConfigMap with a fleet.ini that the pod mounts")
        finish()
    mounts = {m.get("name"): m.get("mountPath")
              for m in main.get("volumeMounts", [])}
    fleet_path = [mounts.get(v["name"], "") + "/fleet.ini"
                  for v in vols.values() if "configMap" in v]
    if not fleet_path or fleet_path[0] not in main.get("args", []):
        err(path, 0, "%s: corrald's args do not name the ConfigMap's "
            "fleet.ini" % what)
    with open(out, "w") as f:
        f.write(fleet)
    finish_with([grace])


# --- HCL (Nomad) ----------------------------------------------------------
#
# HCL's native syntax, as much of it as a job file uses: bodies of
# attributes (NAME = EXPR) and blocks (NAME LABEL... { BODY }); expressions
# are literals, quoted templates (with ${...} and %{...} nested), heredocs
# (<<EOT and <<-EOT), lists, objects, names with .attr and [index],
# function calls and operators between them.

TOKEN = re.compile(r"""
    (?P<nl>\n) | (?P<ws>[ \t\r]+) |
    (?P<comment>\#[^\n]*|//[^\n]*|/\*.*?\*/) |
    (?P<heredoc><<-?([A-Za-z_][A-Za-z0-9_-]*)\n) |
    (?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?) |
    (?P<ident>[A-Za-z_][A-Za-z0-9_-]*) |
    (?P<quote>") |
    (?P<op>==|!=|<=|>=|&&|\|\||=>|\.\.\.|[-+*/%<>!?:=,.\[\](){}])
""", re.X | re.S)


class HclError(Exception):
    def __init__(self, line, msg):
        Exception.__init__(self, msg)
        self.line = line


def lex(text):
    """Tokens (kind, value, line); a quoted string is one token."""
    toks, i, line = [], 0, 1
    while i < len(text):
        m = TOKEN.match(text, i)
        if m is None:
            raise HclError(line, "unexpected character %r" % text[i])
        kind = m.lastgroup
        if kind == "quote":
            j = quoted_end(text, m.end(), line)
            toks.append(("string", text[m.end():j], line))
            i = j + 1
            continue
        if kind == "heredoc":
            marker = m.group(m.lastindex + 1)
            body_start = m.end()
            end = re.compile(r"^[ \t]*" + re.escape(marker) + r"[ \t]*$",
                             re.M).search(text, body_start)
            if end is None:
                raise HclError(line, "heredoc %s is never closed" % marker)
            body = text[body_start:end.start()]
            template_ok(body, line + 1)
            if m.group(kind).startswith("<<-"):
                body = flush(body)
            toks.append(("string", body, line))
            line += text.count("\n", m.start(), end.end())
            i = end.end()
            continue
        if kind not in ("ws", "comment"):
            toks.append((kind, m.group(kind), line))
        line += m.group(kind).count("\n")
        i = m.end()
    toks.append(("eof", "", line))
    return toks


def quoted_end(text, i, line):
    """The index of the quote that closes the string starting at i."""
    depth = 0
    while i < len(text):
        c = text[i]
        if c == "\n" and depth == 0:
            raise HclError(line, "a quoted string runs past its line")
        if c == "\\":
            i += 2
            continue
        if text.startswith("${", i) or text.startswith("%{", i):
            if text.startswith("$${", i) or text.startswith("%%{", i):
                i += 3
                continue
            depth += 1
            i += 2
            continue
        if c == "}" and depth > 0:
            depth -= 1
        elif c == '"' and depth == 0:
            return i
        elif c == '"':
            i = quoted_end(text, i + 1, line)  # a string in an ${...}
        i += 1
    raise HclError(line, "a quoted string is never closed")


def template_ok(body, line):
    """Every ${ and %{ of a heredoc closed (escaped ones aside)."""
    depth = 0
    for m in re.finditer(r"\$\$\{|%%\{|\$\{|%\{|\}", body):
        if m.group() in ("$${", "%%{"):
            continue
        depth += 1 if m.group() != "}" else (-1 if depth else 0)
    if depth:
        raise HclError(line, "a ${ or %{ in a heredoc is never closed")


def flush(body):
    """<<-: the least indentation of its non-empty lines removed."""
    lines = body.split("\n")
    ind = [len(x) - len(x.lstrip(" \t")) for x in lines if x.strip()]
    cut = min(ind) if ind else 0
    return "\n".join(x[cut:] if x.strip() else x.strip(" \t")
                     for x in lines)


class Parser:
    def __init__(self, toks):
        self.t, self.i = toks, 0

    def peek(self, k=0):
        return self.t[self.i + k]

    def take(self, kind=None, value=None):
        tok = self.t[self.i]
        if (kind and tok[0] != kind) or (value and tok[1] != value):
            raise HclError(tok[2], "expected %s, found %s" %
                           (value or kind, tok[1] or tok[0]))
        self.i += 1
        return tok

    def skip_nl(self):
        while self.peek()[0] == "nl":
            self.i += 1

    def body(self, closer):
        """[(name, labels, value or body, line)] up to closer."""
        items = []
        while True:
            self.skip_nl()
            tok = self.peek()
            if (closer is None and tok[0] == "eof") or \
                    (closer and tok[1] == closer and tok[0] == "op"):
                return items
            name = self.take("ident")
            if self.peek()[1] == "=":
                self.take("op", "=")
                value = self.expr()
                if self.peek()[0] not in ("nl", "eof") and \
                        self.peek()[1] != closer:
                    raise HclError(self.peek()[2], "expected a new line "
                                   "after attribute %s" % name[1])
                items.append((name[1], None, value, name[2]))
                continue
            labels = []
            while self.peek()[0] in ("string", "ident"):
                labels.append(self.take()[1])
            self.take("op", "{")
            inner = self.body("}")
            self.take("op", "}")
            items.append((name[1], labels, inner, name[2]))

    def expr(self):
        v = self.operand()
        while self.peek()[0] == "op" and self.peek()[1] in (
                "==", "!=", "<", ">", "<=", ">=", "&&", "||", "+", "-",
                "*", "/", "%"):
            self.take()
            self.operand()
            v = None
        if self.peek()[1] == "?":
            self.take()
            self.expr()
            self.take("op", ":")
            self.expr()
            v = None
        return v

    def operand(self):
        tok = self.take()
        kind, val = tok[0], tok[1]
        if kind == "op" and val in ("-", "!"):
            self.operand()
            return None
        if kind in ("string", "number"):
            v = val
        elif kind == "ident":
            v = {"true": True, "false": False, "null": None}.get(val, val)
            if self.peek()[1] == "(":
                self.take()
                self.seq(")")
                v = None
        elif val == "[":
            v = self.seq("]")
        elif val == "{":
            v = self.obj()
        elif val == "(":
            v = self.expr()
            self.take("op", ")")
        else:
            raise HclError(tok[2], "expected an expression, found %s"
                           % (val or kind))
        while self.peek()[1] in (".", "["):
            if self.take()[1] == ".":
                self.take()
            else:
                self.expr()
                self.take("op", "]")
            v = None
        return v

    def seq(self, closer):
        out = []
        self.skip_nl()
        while self.peek()[1] != closer:
            out.append(self.expr())
            self.skip_nl()
            if self.peek()[1] != closer:
                self.take("op", ",")
                self.skip_nl()
        self.take("op", closer)
        return out

    def obj(self):
        out = {}
        self.skip_nl()
        while self.peek()[1] != "}":
            key = self.take()
            if key[0] not in ("ident", "string"):
                raise HclError(key[2], "expected an object key")
            if self.peek()[1] not in ("=", ":"):
                raise HclError(self.peek()[2], "expected = after %s"
                               % key[1])
            self.take()
            out[key[1]] = self.expr()
            if self.peek()[1] == ",":
                self.take()
            self.skip_nl()
        self.take("op", "}")
        return out


def blocks(body, name):
    return [b for b in body if b[0] == name and b[1] is not None]


def attr(body, name):
    for b in body:
        if b[0] == name and b[1] is None:
            return b[2]
    return None


def seconds(v):
    m = re.fullmatch(r"([0-9]+)(s|m)", str(v))
    return int(m.group(1)) * (60 if m.group(2) == "m" else 1) if m else None


def check_nomad(path, out, node):
    with open(path) as f:
        text = f.read()
    try:
        body = Parser(lex(text)).body(None)
    except HclError as e:
        err(path, e.line, "HCL: %s" % e)
        finish()
    jobs = blocks(body, "job")
    if len(jobs) != 1 or len(jobs[0][1]) != 1:
        err(path, 0, "expected one job block with a name")
        finish()
    job = jobs[0][2]
    if attr(job, "type") != "system":
        err(path, jobs[0][3], "the job's type is not \"system\"")
    tasks = [t for g in blocks(job, "group") for t in blocks(g[2], "task")]
    if len(tasks) != 1:
        err(path, jobs[0][3], "expected one task")
        finish()
    task = tasks[0][2]
    grace = seconds(attr(task, "kill_timeout"))
    if grace is None:
        err(path, tasks[0][3], "the task has no kill_timeout in s or m")
    conf = blocks(task, "config")
    args = attr(conf[0][2], "args") if conf else None
    fleet = None
    for t in blocks(task, "template"):
        if attr(t[2], "destination") == "local/fleet.ini":
            fleet = attr(t[2], "data")
            if "/" + "local/fleet.ini" not in (args or []):
                err(path, t[3], "the task's args do not name "
                    "/local/fleet.ini")
    if not isinstance(fleet, str):
        err(path, tasks[0][3], "no template with data for local/fleet.ini")
        finish()
    # Consul Template's actions: {{ env "node.unique.name" }} is the node.
    if fleet.count("{{") != fleet.count("}}"):
        err(path, tasks[0][3], "the fleet template's {{ }} do not pair")
    fleet = re.sub(r'\{\{-?\s*env\s+"node\.unique\.name"\s*-?\}\}', node,
                   fleet)
    if "{{" in fleet:
        err(path, tasks[0][3], "the fleet template uses actions other "
            "than the node's name")
    with open(out, "w") as f:
        f.write(fleet)
    finish_with([grace])


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    kind, path = sys.argv[1], sys.argv[2]
    if kind == "dockerfile" and len(sys.argv) == 4:
        check_dockerfile(path, sys.argv[3])
    elif kind == "k8s" and len(sys.argv) == 4:
        check_k8s(path, sys.argv[3])
    elif kind == "nomad" and len(sys.argv) == 5:
        check_nomad(path, sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
