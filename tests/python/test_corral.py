"""The Python binding (worker-sdk/python/corral) over the real libcorral:
the saver calls against both backends, and the worker alone."""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "worker-sdk", "python"))
import corral  # noqa: E402


def cfg(thread, ns="", cid=None):
    c = {"thread_id": thread, "checkpoint_ns": ns}
    if cid:
        c["checkpoint_id"] = cid
    return {"configurable": c}


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
        self.assertEqual(len(self.s.list(None)), 3)
        self.assertEqual(len(self.s.list(None, filter={"source": "loop"})), 2)
        self.assertEqual(len(self.s.list(None, limit=1)), 1)
        self.assertEqual([t.checkpoint for t in
                          self.s.list(cfg("a"), before=self.s.list(cfg("a"))[0].config)],
                         [b"1"])
        self.assertEqual(len(self.s.list({"configurable": {"checkpoint_ns": "child"}})), 1)

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


class WorkerAloneTest(unittest.TestCase):
    def setUp(self):
        for v in ("CORRAL_AGENT", "CORRAL_THREAD_ID", "CORRAL_CHECKPOINT_DB",
                  "CORRAL_RESUME_ID", "NOTIFY_SOCKET"):
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
