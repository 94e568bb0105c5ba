"""Parse Prometheus text exposition format (0.0.4) strictly; print samples.

Usage: prom_check.py FILE -> one line per sample: name{sorted labels} value.
Exits 1 naming the line of the first violation: a malformed line, a sample
before its family's TYPE, a family split in two, a bad label or value, a
duplicate series, a counter whose name does not end in _total.
"""
import re
import sys

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*'
VALUE = r'(?:[-+]?(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|Inf)|NaN)'


def die(n, msg, line):
    sys.exit(f"line {n}: {msg}: {line!r}")


def labels(n, text, line):
    out, i = {}, 0
    while i < len(text):
        m = re.match(r'(' + LABEL + r')="((?:[^"\\\n]|\\[\\"n])*)"(,?)', text[i:])
        if not m:
            die(n, "bad label", line)
        if m.group(1) in out:
            die(n, "label twice", line)
        out[m.group(1)] = m.group(2)
        i += m.end()
        if not m.group(3) and i < len(text):
            die(n, "labels not separated by ','", line)
    return out


types, seen_families, series, done = {}, [], set(), set()
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    line = line.rstrip("\n")
    if line.startswith("# HELP "):
        if not re.match(r'# HELP ' + NAME + r' .+$', line):
            die(n, "bad HELP", line)
        continue
    if line.startswith("# TYPE "):
        m = re.match(r'# TYPE (' + NAME + r') (counter|gauge|histogram|summary|untyped)$', line)
        if not m:
            die(n, "bad TYPE", line)
        fam = m.group(1)
        if fam in types:
            die(n, "TYPE given twice", line)
        if seen_families:
            done.add(seen_families[-1])
        types[fam] = m.group(2)
        seen_families.append(fam)
        if m.group(2) == "counter" and not fam.endswith("_total"):
            die(n, "counter without _total", line)
        continue
    if line.startswith("#") or line == "":
        continue
    m = re.match(r'(' + NAME + r')(?:\{(.*)\})? (' + VALUE + r')$', line)
    if not m:
        die(n, "bad sample", line)
    fam = m.group(1)
    if fam not in types:
        die(n, "sample before its TYPE", line)
    if fam in done:
        die(n, "family split", line)
    ls = labels(n, m.group(2) or "", line)
    key = fam + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(ls.items())) + "}"
    if key in series:
        die(n, "duplicate series", line)
    series.add(key)
    print(key, m.group(3))
