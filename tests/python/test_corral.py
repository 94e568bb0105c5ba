"""The Python binding (worker-sdk/python/corral) over the real libcorral:
its structures against the compiler's layout of corral.h, the saver calls
against every backend (PostgreSQL when CORRAL_TEST_PG names a server: a
connection string, a fresh schema per test), fencing, and the worker
alone."""

import gc
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "worker-sdk", "python"))
import corral  # noqa: E402


TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def cfg(thread, ns="", cid=None):
    c = {"thread_id": thread, "checkpoint_ns": ns}
    if cid:
        c["checkpoint_id"] = cid
    return {"configurable": c}


PG = os.environ.get("CORRAL_TEST_PG") or None


def psql(sql, where=None):
    # Quiet (no NOTICE of a cascade), and without the sanitizer's runtime,
    # which is for Python.
    env = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
    env.pop("LD_PRELOAD", None)
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                    where or PG, "-c", sql], check=True, timeout=60,
                   stdout=subprocess.DEVNULL, env=env)


def pg_in_schema(schema):
    """CORRAL_TEST_PG with search_path set to schema: the store's tables
    are made there."""
    opt = "-csearch_path=" + schema
    if PG.startswith(("postgresql://", "postgres://")):
        return PG + ("&" if "?" in PG else "?") + "options=" + \
            opt.replace("=", "%3D")
    return PG + " options='%s'" % opt


class PgSchema:
    """A fresh schema of CORRAL_TEST_PG per test, dropped after it."""
    n = 0

    def pg_setUp(self):
        if PG is None:
            self.skipTest("CORRAL_TEST_PG is unset (tests/run.sh starts a "
                          "PostgreSQL server and sets it)")
        PgSchema.n += 1
        self.schema = "corral_py_%d_%d" % (os.getpid(), PgSchema.n)
        psql("CREATE SCHEMA " + self.schema)
        return pg_in_schema(self.schema)

    def pg_tearDown(self):
        psql("DROP SCHEMA %s CASCADE" % self.schema)


class LayoutTest(unittest.TestCase):
    """Every ctypes structure has the offset, size and total size the C
    compiler gives corral.h's: a field missing, misplaced or of the wrong
    width would have libcorral read or write the wrong memory."""

    STRUCTS = [("corral_ref", "_Ref"), ("corral_write", "_Write"),
               ("corral_channel", "_Channel"), ("corral_tuple", "_Tuple"),
               ("corral_checkpoint", "_Checkpoint"),
               ("corral_list_opts", "_ListOpts"),
               ("corral_worker_opts", "_WorkerOpts")]

    def test_layout_matches_the_header(self):
        cc = os.environ.get("CC", "cc")
        if shutil.which(cc) is None:
            self.skipTest("no C compiler to read the header's layout")
        lines = ["#include <stddef.h>", "#include <stdio.h>",
                 '#include "corral.h"', "int main(void) {"]
        want = []
        for cname, pyname in self.STRUCTS:
            cls = getattr(corral, pyname)
            lines.append('printf("%%zu\\n", sizeof(struct %s));' % cname)
            want.append(("%s size" % cname, corral.ctypes.sizeof(cls)))
            for f, _ in cls._fields_:
                lines.append('printf("%%zu %%zu\\n", offsetof(struct %s, %s),'
                             ' sizeof(((struct %s *)0)->%s));'
                             % (cname, f, cname, f))
                d = getattr(cls, f)
                want.append(("%s.%s offset size" % (cname, f),
                             "%d %d" % (d.offset, d.size)))
        lines.append("return 0; }")
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)  # the sanitizer's runtime is for Python
        with tempfile.TemporaryDirectory() as d:
            src, exe = os.path.join(d, "layout.c"), os.path.join(d, "layout")
            with open(src, "w") as f:
                f.write("\n".join(lines) + "\n")
            subprocess.run([cc, "-std=c11", "-I",
                            os.path.join(TOP, "worker-sdk"), "-o", exe, src],
                           check=True, env=env, timeout=60)
            got = subprocess.run([exe], check=True, env=env, timeout=30,
                                 stdout=subprocess.PIPE).stdout.decode()
        got = got.split("\n")
        for i, (what, value) in enumerate(want):
            self.assertEqual(got[i], str(value), what)


class SaverCases:
    def test_put_get_roundtrip(self):
        c1 = self.s.put(cfg("t"), b"one\x00bytes", {"source": "input", "step": -1})
        self.assertEqual(set(c1["configurable"]),
                         {"thread_id", "checkpoint_ns", "checkpoint_id"})
        self.assertEqual(c1["configurable"]["checkpoint_ns"], "")
        c2 = self.s.put(c1, b"two", {"source": "loop", "step": 0})
        t = self.s.get_tuple(cfg("t"))
        self.assertEqual(t.config, c2)
        self.assertEqual(t.checkpoint, b"two")
        self.assertEqual(t.metadata, {"source": "loop", "step": 0})
        self.assertEqual(t.parent_config, c1)
        first = self.s.get_tuple(c1)
        self.assertEqual(first.checkpoint, b"one\x00bytes")
        self.assertIsNone(first.parent_config)
        self.assertEqual(self.s.get(c2), b"two")

    def test_missing(self):
        self.assertIsNone(self.s.get_tuple(cfg("nobody")))
        self.assertIsNone(self.s.get_tuple({"configurable": {}}))
        with self.assertRaises(ValueError):
            self.s.put({"configurable": {}}, b"x")
        with self.assertRaises(ValueError):
            self.s.put({}, b"x")

    def test_list_and_filter(self):
        c = self.s.put(cfg("a"), b"1", {"source": "input"})
        self.s.put(c, b"2", {"source": "loop"})
        self.s.put(cfg("b", "child"), b"3", {"source": "loop"})
        self.assertEqual([t.checkpoint for t in self.s.list(cfg("a"))],
                         [b"2", b"1"])
        self.assertEqual(len(list(self.s.list(None))), 3)
        self.assertEqual(len(list(self.s.list(None, filter={"source": "loop"}))), 2)
        self.assertEqual(len(list(self.s.list(None, limit=1))), 1)
        newest = next(self.s.list(cfg("a")))
        self.assertEqual([t.checkpoint for t in
                          self.s.list(cfg("a"), before=newest.config)],
                         [b"1"])
        self.assertEqual(len(list(self.s.list(
            {"configurable": {"checkpoint_ns": "child"}}))), 1)
        with self.assertRaises(corral.CorralError):
            next(self.s.list(None, filter=[1]))  # not a JSON object

    def test_writes(self):
        c = self.s.put(cfg("w"), b"x", {})
        self.s.put_writes(c, [("animals", b"dog"), ("__error__", b"boom")], "t1")
        self.s.put_writes(c, [("animals", b"cat")], "t1")  # first wins
        t = self.s.get_tuple(c)
        self.assertEqual(sorted(t.pending_writes),
                         [("t1", "__error__", b"boom"), ("t1", "animals", b"dog")])
        with self.assertRaises(ValueError):
            self.s.put_writes(cfg("w"), [("a", b"b")], "t2")

    def test_delete_thread(self):
        self.s.put(cfg("x"), b"1", {})
        self.s.put(cfg("x", "child"), b"2", {})
        self.s.put(cfg("y"), b"3", {})
        self.s.delete_thread("x")
        self.assertEqual([t.checkpoint for t in self.s.list(None)], [b"3"])

    def assertSameTuple(self, a, b):
        for f in corral.CheckpointTuple.__slots__:
            self.assertEqual(getattr(a, f), getattr(b, f), f)
        for wa, wb in zip(a.pending_writes, b.pending_writes):
            self.assertEqual((wa.type, wa.task_path, wa.idx),
                             (wb.type, wb.task_path, wb.idx))

    def test_every_field_roundtrips(self):
        # Each field of corral_checkpoint, corral_channel and corral_write
        # put in, each of corral_tuple read out, all distinct, so that a
        # field read from its neighbour's place shows.
        p = self.s.put(cfg("rt", "sub:1"), b"parent", {}, id="1-parent")
        c = self.s.put(p, b"ck\x00pt", {"source": "loop", "step": 3},
                       id="2-child", type="json", metadata_type="json-md",
                       versions={"msgs": "07.x", "n": 3, "gone": 1,
                                 "f": 2.5},
                       values={"msgs": ("json", b'["hi"]'),
                               "n": ("bytes", b"\x00\xff"), "gone": None,
                               "f": (None, b"")})
        self.assertEqual(c, cfg("rt", "sub:1", "2-child"))
        self.s.put_writes(c, [("animals", ("json", b'"dog"')),
                              ("__interrupt__", b"\x01")], "task-b",
                          task_path="~1")
        self.s.put_writes(c, [("birds", ("msgpack", b"\x91\x01"))], "task-a",
                          task_path="~2")
        t = self.s.get_tuple(c)
        self.assertEqual(t.config, c)
        self.assertEqual(t.parent_config, p)
        self.assertEqual(t.checkpoint, b"ck\x00pt")
        self.assertEqual(t.type, "json")
        self.assertEqual(t.metadata, {"source": "loop", "step": 3})
        self.assertEqual(t.metadata_type, "json-md")
        self.assertEqual(t.channels, {"msgs": ("07.x", "json", b'["hi"]'),
                                      "n": ("3", "bytes", b"\x00\xff"),
                                      "f": ("2.5", None, b"")})
        self.assertEqual(list(t.channels), ["msgs", "n", "f"])  # put's order
        w = t.pending_writes
        self.assertEqual(w, [("task-b", "__interrupt__", b"\x01"),
                             ("task-b", "animals", b'"dog"'),
                             ("task-a", "birds", b"\x91\x01")])
        self.assertEqual([(x.type, x.task_path, x.idx) for x in w],
                         [(None, "~1", -3), ("json", "~1", 0),
                          ("msgpack", "~2", 0)])
        self.assertEqual((w[1].task_id, w[1].channel, w[1].value),
                         ("task-b", "animals", b'"dog"'))
        listed = list(self.s.list(cfg("rt", "sub:1")))
        self.assertEqual(len(listed), 2)
        self.assertSameTuple(listed[0], t)
        self.assertSameTuple(listed[1], self.s.get_tuple(p))
        got = self.s.get_writes(c)
        self.assertEqual(got, w)
        self.assertEqual([(x.type, x.task_path, x.idx) for x in got],
                         [(x.type, x.task_path, x.idx) for x in w])
        # No tags, no metadata, no channels: the Nones and empties.
        e = self.s.get_tuple(p)
        self.assertEqual((e.type, e.metadata_type, e.metadata, e.channels,
                          e.pending_writes, e.parent_config),
                         (None, None, {}, {}, [], None))

    def test_metadata_as_text(self):
        c = self.s.put(cfg("md"), b"x", '{"source": "input", "n": [1, 2]}')
        self.assertEqual(self.s.get_tuple(c).metadata,
                         {"source": "input", "n": [1, 2]})
        c = self.s.put(cfg("md"), b"x", b'{"source": "loop"}')
        self.assertEqual([t.metadata for t in
                          self.s.list(cfg("md"), filter={"source": "loop"})],
                         [{"source": "loop"}])

    def test_channel_deltas(self):
        # LangGraph's "should only store channel_values that have changed":
        # the same channel_versions each time, newVersions {}, {foo},
        # {foo, baz}.
        versions = {"foo": 1, "baz": 1}
        vals = {"foo": ("json", b'"bar"'), "baz": ("json", b'"qux"')}
        got = []
        parent = cfg("delta")
        for new in ([], ["foo"], ["foo", "baz"]):
            parent = self.s.put(parent, b"{}", {}, versions=versions,
                                values={k: vals[k] for k in new})
            got.append(self.s.get_tuple(parent).channels)
        self.assertEqual(got, [{}, {"foo": ("1", "json", b'"bar"')},
                               {"foo": ("1", "json", b'"bar"'),
                                "baz": ("1", "json", b'"qux"')}])

    def test_channels_of_ancestors_and_own_values(self):
        a = self.s.put(cfg("anc"), b"a", {}, versions={"messages": 1},
                       values={"messages": ("json", b"[1]")})
        # The child writes stepCount only; messages is still at version 1.
        b = self.s.put(a, b"b", {}, versions={"messages": 1, "stepCount": 2},
                       values={"stepCount": ("json", b"2")})
        self.assertEqual(self.s.get_tuple(b).channels,
                         {"messages": ("1", "json", b"[1]"),
                          "stepCount": ("2", "json", b"2")})
        # A put's own value is its own, whatever its ancestors have for
        # that version (its branch's); a new version is a new value; an
        # "empty" one leaves the channel out.
        c = self.s.put(b, b"c", {}, versions={"messages": 1},
                       values={"messages": ("json", b"[9]")})
        self.assertEqual(self.s.get_tuple(c).channels,
                         {"messages": ("1", "json", b"[9]")})
        self.assertEqual(self.s.get_tuple(b).channels["messages"],
                         ("1", "json", b"[1]"))
        d = self.s.put(c, b"d", {}, versions={"messages": 2, "x": 5},
                       values={"messages": ("json", b"[1,2]"), "x": None})
        self.assertEqual(self.s.get_tuple(d).channels,
                         {"messages": ("2", "json", b"[1,2]")})
        # Per thread: another thread's version 1 is its own.
        e = self.s.put(cfg("anc2"), b"e", {}, versions={"messages": 1},
                       values={"messages": ("json", b"[7]")})
        self.assertEqual(self.s.get_tuple(e).channels,
                         {"messages": ("1", "json", b"[7]")})
        with self.assertRaises(ValueError):  # a value needs its version
            self.s.put(cfg("anc"), b"x", {}, values={"y": ("json", b"1")})
        with self.assertRaises(TypeError):
            self.s.put(cfg("anc"), b"x", {}, versions={"y": [1]})

    def test_pending_sends_of_a_v3_checkpoint(self):
        # A checkpoint of format < 4: its pending sends are its parent's
        # writes on __pregel_tasks, in (task_path, task_id, idx) order.
        p = self.s.put(cfg("thread-1"), b'{"v":3}', {"source": "loop"})
        self.s.put_writes(p, [("__pregel_tasks", ("json", b'"send-1"')),
                              ("other", b"x"),
                              ("__pregel_tasks", ("json", b'"send-2"'))],
                          "task-1")
        self.s.put_writes(p, [("__pregel_tasks", ("json", b'"send-3"'))],
                          "task-2")
        c = self.s.put(p, b'{"v":3,"channel_values":{}}', {"source": "loop"})
        t = self.s.get_tuple(c)
        self.assertEqual(t.pending_writes, [])
        sends = self.s.get_writes(t.parent_config, "__pregel_tasks")
        self.assertEqual([w.value for w in sends],
                         [b'"send-1"', b'"send-2"', b'"send-3"'])
        self.assertEqual([(w.task_id, w.idx, w.type) for w in sends],
                         [("task-1", 0, "json"), ("task-1", 2, "json"),
                          ("task-2", 0, "json")])
        self.assertEqual(len(self.s.get_writes(p)), 4)
        self.assertEqual(self.s.get_writes(c), [])
        self.assertEqual(self.s.get_writes(p, "nothing"), [])
        with self.assertRaises(ValueError):
            self.s.get_writes(cfg("thread-1"))  # no checkpoint_id

    def test_task_path_orders_writes(self):
        c = self.s.put(cfg("tp"), b"x", {})
        self.s.put_writes(c, [("ch", b"a0"), ("ch", b"a1")], "a", task_path="~1")
        self.s.put_writes(c, [("ch", b"b0")], "b", task_path="~0")
        self.s.put_writes(c, [("ch", b"c0")], "c", task_path="~0")
        self.s.put_writes(c, [("ch", b"z0")], "z")  # no path: ""
        t = self.s.get_tuple(c)
        self.assertEqual([(w.task_path, w.task_id, w.value)
                          for w in t.pending_writes],
                         [("", "z", b"z0"), ("~0", "b", b"b0"),
                          ("~0", "c", b"c0"), ("~1", "a", b"a0"),
                          ("~1", "a", b"a1")])

    def test_long_keys(self):
        k = "t" * 4095
        c = self.s.put(cfg(k, "n" * 4095), b"x", {}, id="9" * 4095)
        self.assertEqual(c, cfg(k, "n" * 4095, "9" * 4095))
        self.assertEqual(self.s.get_tuple(c).config, c)
        self.s.put_writes(c, [("c" * 4095, b"v")], "k" * 4095,
                          task_path="p" * 4095)
        w = self.s.get_writes(c)[0]
        self.assertEqual((w.task_id, w.channel, w.task_path),
                         ("k" * 4095, "c" * 4095, "p" * 4095))
        with self.assertRaises(corral.CorralError) as e:
            self.s.put(cfg("u" * 4096), b"x", {})
        self.assertEqual(e.exception.code, -1)
        with self.assertRaises(corral.CorralError):
            self.s.put(cfg("t"), b"x", {}, id="9" * 4096)

    def test_list_yields_while_the_store_is_used(self):
        a = self.s.put(cfg("it"), b"a", {}, id="5-a")
        self.s.put(a, b"b", {}, id="6-b")
        self.s.put(cfg("it2"), b"c", {}, id="4-c")
        seen = []
        for t in self.s.list(None):
            seen.append(t.checkpoint)
            if t.checkpoint == b"b":
                # After the key given: seen.  Before it: not.  Deleted
                # before being reached: not.
                self.s.put(cfg("it3"), b"late", {}, id="1-late")
                self.s.put(cfg("it3"), b"early", {}, id="9-early")
                self.s.delete_thread("it2")
                self.s.put_writes(t.config, [("ch", b"w")], "task")
        self.assertEqual(seen, [b"b", b"a", b"late"])
        self.assertEqual(len(self.s.get_tuple(cfg("it", "", "6-b"))
                             .pending_writes), 1)

    def test_list_closes_its_cursor(self):
        for i in range(3):
            self.s.put(cfg("cl"), b"%d" % i, {})
        for t in self.s.list(cfg("cl")):
            break  # the generator is collected, its cursor closed
        self.assertEqual(len(self.s._cursors), 0)
        g = self.s.list(cfg("cl"))
        next(g)
        self.assertEqual(len(self.s._cursors), 1)
        del g
        gc.collect()
        self.assertEqual(len(self.s._cursors), 0)
        g = self.s.list(cfg("cl"), limit=2)
        self.assertEqual(len(list(g)), 2)  # ran out: closed
        self.assertEqual(len(self.s._cursors), 0)
        # The saver closed under an open generator: its cursor first.
        g = self.s.list(cfg("cl"))
        next(g)
        self.s.close()
        self.assertEqual(len(self.s._cursors), 0)
        with self.assertRaises(corral.CorralError):
            next(g)
        with self.assertRaises(corral.CorralError):
            self.s.put(cfg("cl"), b"x", {})


class MemorySaverTest(SaverCases, unittest.TestCase):
    def setUp(self):
        self.s = corral.Saver()

    def tearDown(self):
        self.s.close()


class SqliteSaverTest(SaverCases, unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.s = corral.Saver(os.path.join(self.dir.name, "ck.db"))

    def tearDown(self):
        self.s.close()
        self.dir.cleanup()

    def test_bad_path(self):
        with self.assertRaises(corral.CorralError) as e:
            corral.Saver("/nonexistent-dir/x/ck.db")
        self.assertIn("/nonexistent-dir/x/ck.db", str(e.exception))


class PostgresSaverTest(SaverCases, PgSchema, unittest.TestCase):
    def setUp(self):
        self.where = self.pg_setUp()
        self.s = corral.Saver(self.where)

    def tearDown(self):
        self.s.close()
        self.pg_tearDown()

    def test_fenced_put(self):
        # Another node took the thread over (its lease holds token 8): a
        # write fenced with 5, the lease's before, is refused and writes
        # nothing; another thread's writes and an unfenced saver are not
        # held back.
        psql("INSERT INTO corral_leases (thread_id, holder, token, "
             "expires_at) VALUES ('f', 'node-b', 8, now() + "
             "interval '1 hour')", self.where)
        self.s.fence("f", 8)
        c = self.s.put(cfg("f"), b"before", {})
        self.s.fence("f", 5)
        with self.assertRaises(corral.Fenced) as e:
            self.s.put(c, b"after", {})
        self.assertEqual(e.exception.code, -9)
        with self.assertRaises(corral.Fenced):
            self.s.put_writes(c, [("ch", b"w")], "task")
        with self.assertRaises(corral.Fenced):
            self.s.delete_thread("f")
        self.s.put(cfg("other"), b"free", {})
        self.assertEqual(self.s.get_tuple(cfg("f")).checkpoint, b"before")
        self.assertEqual(self.s.get_tuple(c).pending_writes, [])
        self.s.fence("f", 0)
        self.s.put(c, b"unfenced", {})
        with self.assertRaises(corral.CorralError):
            self.s.fence("f", -1)

    def test_from_env_fences(self):
        env = {"CORRAL_CHECKPOINT_DB": self.where, "CORRAL_THREAD_ID": "g",
               "CORRAL_LEASE_TOKEN": "7"}
        with corral.Saver.from_env(env) as s:
            self.assertEqual((s.thread_id, s.resume_id), ("g", None))
            with self.assertRaises(corral.Fenced):
                s.put(cfg("g"), b"x", {})
            s.put(cfg("h"), b"x", {})

    def test_fenced_worker_exits_75(self):
        # Left uncaught, Fenced ends a worker with 75 (EX_TEMPFAIL).
        child = r"""
import sys
sys.path.insert(0, sys.argv[1])
import corral
w = corral.Worker(checkpoint_db=sys.argv[2])
w.checkpoint(b"1")
"""
        pkg = os.path.join(os.path.dirname(__file__), "..", "..",
                           "worker-sdk", "python")
        env = dict(os.environ, CORRAL_THREAD_ID="w", CORRAL_LEASE_TOKEN="3")
        p = subprocess.run([sys.executable, "-c", child, pkg, self.where],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env, timeout=60)
        self.assertEqual(p.returncode, corral.EX_TEMPFAIL, p.stderr.decode())
        self.assertIn(b"Fenced", p.stderr)
        self.assertIsNone(self.s.get_tuple(cfg("w")))

    def test_password_not_shown(self):
        with self.assertRaises(corral.CorralError) as e:
            corral.Saver("host=/nonexistent-corral-dir dbname=x "
                         "password=hunter2")
        self.assertNotIn("hunter2", str(e.exception))
        self.assertIn("password=***", str(e.exception))


class LeaseTokenTest(unittest.TestCase):
    """CORRAL_LEASE_TOKEN is a positive decimal integer or an error that
    names it, never ignored; on SQLite and in memory the fence is a
    no-op."""

    BAD = ["abc", "0", "-3", " 5", "12x", "9223372036854775808", "0x10"]

    def test_from_env(self):
        for bad in self.BAD:
            with self.assertRaises(corral.CorralError) as e:
                corral.Saver.from_env({"CORRAL_LEASE_TOKEN": bad})
            self.assertIn("CORRAL_LEASE_TOKEN", str(e.exception))
        with tempfile.TemporaryDirectory() as d:
            env = {"CORRAL_CHECKPOINT_DB": os.path.join(d, "ck.db"),
                   "CORRAL_LEASE_TOKEN": "9223372036854775807",
                   "CORRAL_RESUME_ID": ""}
            with corral.Saver.from_env(env) as s:
                self.assertEqual((s.thread_id, s.resume_id), ("local", ""))
                s.put(cfg("local"), b"x", {})

    def test_worker(self):
        saved = os.environ.get("CORRAL_LEASE_TOKEN")
        try:
            for bad in self.BAD:
                os.environ["CORRAL_LEASE_TOKEN"] = bad
                with self.assertRaises(corral.CorralError) as e:
                    corral.Worker()
                self.assertIn("CORRAL_LEASE_TOKEN", str(e.exception))
            os.environ["CORRAL_LEASE_TOKEN"] = "12"
            with corral.Worker() as w:
                w.checkpoint(b"x")
        finally:
            os.environ.pop("CORRAL_LEASE_TOKEN", None)
            if saved is not None:
                os.environ["CORRAL_LEASE_TOKEN"] = saved


class WorkerAloneTest(unittest.TestCase):
    def setUp(self):
        for v in ("CORRAL_AGENT", "CORRAL_THREAD_ID", "CORRAL_CHECKPOINT_DB",
                  "CORRAL_RESUME_ID", "CORRAL_LEASE_TOKEN", "NOTIFY_SOCKET"):
            os.environ.pop(v, None)
        self.dir = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.dir.name, "ck.db")

    def tearDown(self):
        self.dir.cleanup()

    def test_resume_chain(self):
        with corral.Worker(checkpoint_db=self.db) as w:
            self.assertFalse(w.supervised)
            self.assertEqual(w.thread_id, "local")
            self.assertIsNone(w.resume())
            w.ready()
            w.heartbeat()
            w.status("warming up")
            w.report_error("fine", severity="warning")
            a = w.checkpoint(b'{"n": 1}')
            b = w.checkpoint(b'{"n": 2}', {"n": 2})
            self.assertLess(a, b)
            self.assertFalse(w.stopping)
        with corral.Worker(checkpoint_db=self.db) as w:
            cp = w.resume()
            self.assertEqual((cp.id, cp.parent_id, cp.data, cp.metadata),
                             (b, a, b'{"n": 2}', {"n": 2}))

    def test_stopping_survives_a_dead_reader(self):
        # In a process of its own: the stop flag is the process's.  Its
        # stdout is a pipe whose reader is gone, as when corrald died.
        child = r"""
import os, signal, sys
sys.path.insert(0, sys.argv[1])
import corral
w = corral.Worker(checkpoint_db=sys.argv[2])
os.kill(os.getpid(), signal.SIGTERM)
assert w.stopping
for i in range(1000):
    print("winding down", i)
sys.stdout.flush()
w.checkpoint(b"final")
os._exit(0)
"""
        r, wfd = os.pipe()
        os.close(r)
        pkg = os.path.join(os.path.dirname(__file__), "..", "..",
                           "worker-sdk", "python")
        p = subprocess.run([sys.executable, "-c", child, pkg, self.db],
                           stdout=wfd, stderr=subprocess.PIPE, timeout=30)
        os.close(wfd)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        with corral.Worker(checkpoint_db=self.db) as w:
            self.assertEqual(w.resume().data, b"final")

    def test_storage_error_exits_74(self):
        # The database deleted under a worker: its checkpoint raises
        # StorageError (kind "moved", the path named), and left uncaught
        # it ends the process with 74 (EX_IOERR), not Python's 1.
        child = r"""
import os, sys
sys.path.insert(0, sys.argv[1])
import corral
w = corral.Worker(checkpoint_db=sys.argv[2])
w.checkpoint(b"1")
os.unlink(sys.argv[2])
try:
    w.checkpoint(b"2")
except corral.StorageError as e:
    assert e.kind == "moved", e.kind
    assert sys.argv[2] in str(e), str(e)
    print("caught", e.kind)
w.checkpoint(b"3")
"""
        pkg = os.path.join(os.path.dirname(__file__), "..", "..",
                           "worker-sdk", "python")
        p = subprocess.run([sys.executable, "-c", child, pkg, self.db],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        self.assertEqual(p.returncode, corral.EX_IOERR, p.stderr.decode())
        self.assertEqual(p.stdout, b"caught moved\n")
        self.assertIn(b"StorageError", p.stderr)
        self.assertIn(b"deleted", p.stderr)


if __name__ == "__main__":
    unittest.main()
