"""corral: the Python side of libcorral, over ctypes, standard library only.

A worker under corrald::

    import corral
    w = corral.Worker()            # from corrald's environment, or alone
    cp = w.resume()                # None, or .id .parent_id .data .metadata
    state = json.loads(cp.data) if cp else {"step": 0}
    w.ready()
    while not w.stopping:
        ...                        # one step of work
        w.checkpoint(json.dumps(state).encode(), {"step": state["step"]})
        w.heartbeat()

The checkpoint store alone, with LangGraph's saver calls::

    s = corral.Saver("checkpoints.db")          # or corral.Saver() in memory
    s = corral.Saver("postgresql://corral@db/ck")   # or a PostgreSQL server
    cfg = s.put({"configurable": {"thread_id": "t"}}, b"...", {"source": "input"})
    t = s.get_tuple(cfg)

libcorral.so is looked for in $CORRAL_LIBRARY, then next to the source
tree's build (build/libcorral.so.0), then through the loader's path.
"""

import ctypes
import ctypes.util
import json
import os
import sys

__all__ = ["Worker", "Saver", "Checkpoint", "CheckpointTuple", "Write",
           "CorralError", "NotFound", "Corrupt", "StorageError", "Fenced",
           "EX_IOERR", "EX_TEMPFAIL"]

# The exit status of a worker whose checkpoint storage failed (sysexits'
# EX_IOERR): corrald classes it "storage", never counts it toward rollback.
EX_IOERR = 74
# The exit status of a worker whose writes were fenced (sysexits'
# EX_TEMPFAIL): another node took its thread over; corrald decides from
# its own lease what comes next.
EX_TEMPFAIL = 75


class CorralError(Exception):
    """A call of libcorral failed; .code is its CORRAL_E* value."""

    def __init__(self, code, what):
        super().__init__(what)
        self.code = code


class NotFound(CorralError):
    pass


class Corrupt(CorralError):
    """A stored checkpoint failed its checksum: never returned as data."""


class StorageError(CorralError):
    """The checkpoint storage itself failed: disk full, I/O error, a
    damaged database file, or the file deleted or replaced while open.
    .kind is "full", "io", "damaged" or "moved".  In a process that made a
    Worker, one left uncaught ends it with exit status 74 (EX_IOERR), after
    the usual traceback, so that corrald classes the exit "storage"."""

    def __init__(self, code, what):
        super().__init__(code, what)
        self.kind = _STORAGE_KINDS.get(code, "io")


class Fenced(CorralError):
    """A write was refused, nothing written: the saver is fenced to the
    thread with a lease's token (CORRAL_LEASE_TOKEN) and the thread's
    lease now holds another, another node having taken the thread over
    (PostgreSQL only).  .code is CORRAL_EFENCED (-9).  Every later write
    fails too: the worker should stop.  In a process that made a Worker
    or Saver.from_env, one left uncaught ends it with exit status 75
    (EX_TEMPFAIL), after the usual traceback."""


def _load():
    here = os.path.dirname(os.path.abspath(__file__))
    tried = []
    cands = []
    if os.environ.get("CORRAL_LIBRARY"):
        cands.append(os.environ["CORRAL_LIBRARY"])
    cands.append(os.path.join(here, "..", "..", "..", "build", "libcorral.so.0"))
    found = ctypes.util.find_library("corral")
    if found:
        cands.append(found)
    cands.append("libcorral.so.0")
    for c in cands:
        try:
            return ctypes.CDLL(c)
        except OSError as e:
            tried.append("%s (%s)" % (c, e))
    raise OSError("cannot load libcorral: tried " + "; ".join(tried))


_lib = _load()

_c_char_p = ctypes.c_char_p


class _Ref(ctypes.Structure):
    _fields_ = [("thread_id", _c_char_p), ("checkpoint_ns", _c_char_p),
                ("checkpoint_id", _c_char_p)]


# The structures below mirror corral.h field for field, in its order: a
# field missing or misplaced here makes libcorral read or write the wrong
# memory.  tests/python/test_corral.py checks every offset against the
# compiler's and round-trips every field.

class _Write(ctypes.Structure):
    _fields_ = [("task_id", _c_char_p), ("channel", _c_char_p),
                ("idx", ctypes.c_int), ("type", _c_char_p),
                ("value", ctypes.c_void_p), ("len", ctypes.c_size_t),
                ("task_path", _c_char_p)]


class _Channel(ctypes.Structure):
    _fields_ = [("channel", _c_char_p), ("version", _c_char_p),
                ("type", _c_char_p), ("value", ctypes.c_void_p),
                ("len", ctypes.c_size_t)]


class _Tuple(ctypes.Structure):
    _fields_ = [("thread_id", _c_char_p), ("checkpoint_ns", _c_char_p),
                ("checkpoint_id", _c_char_p), ("parent_id", _c_char_p),
                ("type", _c_char_p), ("data", ctypes.c_void_p),
                ("len", ctypes.c_size_t), ("metadata", _c_char_p),
                ("metadata_type", _c_char_p),
                ("created_ms", ctypes.c_int64),
                ("writes", ctypes.POINTER(_Write)),
                ("nwrites", ctypes.c_size_t),
                ("channels", ctypes.POINTER(_Channel)),
                ("nchannels", ctypes.c_size_t), ("corrupt", ctypes.c_bool)]


class _Checkpoint(ctypes.Structure):
    _fields_ = [("id", _c_char_p), ("type", _c_char_p),
                ("data", ctypes.c_void_p), ("len", ctypes.c_size_t),
                ("metadata", _c_char_p), ("metadata_type", _c_char_p),
                ("versions", ctypes.POINTER(_Channel)),
                ("nversions", ctypes.c_size_t),
                ("values", ctypes.POINTER(_Channel)),
                ("nvalues", ctypes.c_size_t)]


class _ListOpts(ctypes.Structure):
    _fields_ = [("thread_id", _c_char_p), ("checkpoint_ns", _c_char_p),
                ("before", _c_char_p), ("filter", _c_char_p),
                ("limit", ctypes.c_uint)]


class _WorkerOpts(ctypes.Structure):
    _fields_ = [("thread_id", _c_char_p), ("checkpoint_db", _c_char_p),
                ("durability", ctypes.c_int),
                ("checkpoint_interval_ms", ctypes.c_uint64),
                ("clock", ctypes.c_void_p), ("no_signals", ctypes.c_bool)]


_KEY = 4096  # CORRAL_KEY_MAX + 1: room for any id (and its NUL)

_sig = {
    "corral_strerror": (_c_char_p, [ctypes.c_int]),
    "corral_store_open": (ctypes.c_int, [_c_char_p, ctypes.c_int,
                          ctypes.POINTER(ctypes.c_void_p),
                          ctypes.POINTER(_c_char_p)]),
    "corral_store_fence": (ctypes.c_int, [ctypes.c_void_p, _c_char_p,
                           ctypes.c_int64]),
    "corral_where_shown": (_c_char_p, [_c_char_p, ctypes.c_char_p,
                           ctypes.c_size_t]),
    "corral_store_open_memory": (ctypes.c_int,
                                 [ctypes.POINTER(ctypes.c_void_p)]),
    "corral_store_close": (None, [ctypes.c_void_p]),
    "corral_store_errmsg": (_c_char_p, [ctypes.c_void_p]),
    "corral_put": (ctypes.c_int, [ctypes.c_void_p, ctypes.POINTER(_Ref),
                   ctypes.POINTER(_Checkpoint), ctypes.c_char_p,
                   ctypes.c_size_t]),
    "corral_get_tuple": (ctypes.c_int, [ctypes.c_void_p, ctypes.POINTER(_Ref),
                         ctypes.POINTER(ctypes.POINTER(_Tuple))]),
    "corral_tuple_free": (None, [ctypes.POINTER(_Tuple)]),
    "corral_list_open": (ctypes.c_int, [ctypes.c_void_p,
                         ctypes.POINTER(_ListOpts),
                         ctypes.POINTER(ctypes.c_void_p)]),
    "corral_list_next": (ctypes.c_int, [ctypes.c_void_p,
                         ctypes.POINTER(ctypes.POINTER(_Tuple))]),
    "corral_list_close": (None, [ctypes.c_void_p]),
    "corral_get_writes": (ctypes.c_int, [ctypes.c_void_p, ctypes.POINTER(_Ref),
                          _c_char_p, ctypes.POINTER(ctypes.POINTER(_Write)),
                          ctypes.POINTER(ctypes.c_size_t)]),
    "corral_put_writes_path": (ctypes.c_int, [ctypes.c_void_p,
                               ctypes.POINTER(_Ref), _c_char_p, _c_char_p,
                               ctypes.POINTER(_Write), ctypes.c_size_t]),
    "corral_delete_thread": (ctypes.c_int, [ctypes.c_void_p, _c_char_p]),
    "corral_worker_init": (ctypes.c_int, [ctypes.POINTER(_WorkerOpts),
                           ctypes.POINTER(ctypes.c_void_p),
                           ctypes.POINTER(_c_char_p)]),
    "corral_worker_free": (None, [ctypes.c_void_p]),
    "corral_worker_resume": (ctypes.c_int, [ctypes.c_void_p,
                             ctypes.POINTER(ctypes.POINTER(_Tuple))]),
    "corral_worker_checkpoint": (ctypes.c_int, [ctypes.c_void_p,
                                 ctypes.c_void_p, ctypes.c_size_t, _c_char_p,
                                 ctypes.c_char_p, ctypes.c_size_t]),
    "corral_worker_ready": (ctypes.c_int, [ctypes.c_void_p]),
    "corral_worker_heartbeat": (ctypes.c_int, [ctypes.c_void_p]),
    "corral_worker_status": (ctypes.c_int, [ctypes.c_void_p, _c_char_p]),
    "corral_worker_report_error": (ctypes.c_int, [ctypes.c_void_p,
                                   ctypes.c_int, ctypes.c_bool, _c_char_p,
                                   _c_char_p]),
    "corral_worker_stopping": (ctypes.c_bool, [ctypes.c_void_p]),
    "corral_worker_checkpoint_due": (ctypes.c_bool, [ctypes.c_void_p]),
    "corral_worker_supervised": (ctypes.c_bool, [ctypes.c_void_p]),
    "corral_worker_thread_id": (_c_char_p, [ctypes.c_void_p]),
    "corral_worker_store": (ctypes.c_void_p, [ctypes.c_void_p]),
}
for _name, (_res, _args) in _sig.items():
    _f = getattr(_lib, _name)
    _f.restype = _res
    _f.argtypes = _args

_NOTFOUND = 1
_EINVAL = -1
_ECORRUPT = -3
_EFENCED = -9
# CORRAL_EIO, CORRAL_EMOVED, CORRAL_EFULL, CORRAL_EDAMAGED
_STORAGE_KINDS = {-2: "io", -6: "moved", -7: "full", -8: "damaged"}
_SEVERITY = {"info": 0, "warning": 1, "error": 2, "critical": 3}


def _b(s):
    return None if s is None else s.encode()


def _s(b):
    return None if b is None else b.decode()


def _check(rc, what, store=None):
    if rc == 0:
        return
    msg = "%s: %s" % (what, _lib.corral_strerror(rc).decode())
    if store is not None and rc < 0 and rc != _ECORRUPT:
        detail = _lib.corral_store_errmsg(store)
        if detail:
            msg += " (%s)" % detail.decode()
    if rc == _NOTFOUND:
        raise NotFound(rc, msg)
    if rc == _ECORRUPT:
        raise Corrupt(rc, msg)
    if rc in _STORAGE_KINDS:
        raise StorageError(rc, msg)
    if rc == _EFENCED:
        raise Fenced(rc, msg)
    raise CorralError(rc, msg)


def _shown(where):
    """where (a path or a connection string) as a message may show it:
    without a password."""
    b = where.encode()
    buf = ctypes.create_string_buffer(len(b) + 16)
    return _lib.corral_where_shown(b, buf, len(buf)).decode(errors="replace")


def _lease_token(value, what):
    """A fencing token: an int, or a decimal string, in [0, 2^63)."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or \
            not 0 <= value < 1 << 63:
        raise CorralError(_EINVAL, "%s is not a decimal integer in "
                          "[0, 2^63): %r" % (what, value))
    return value


class Checkpoint:
    """What a worker resumes from."""

    __slots__ = ("id", "parent_id", "data", "metadata")

    def __init__(self, id, parent_id, data, metadata):
        self.id, self.parent_id = id, parent_id
        self.data, self.metadata = data, metadata

    def __repr__(self):
        return "Checkpoint(id=%r, parent_id=%r, %d bytes)" % (
            self.id, self.parent_id, len(self.data))


class Write(tuple):
    """A pending write: LangGraph's (task_id, channel, value), a 3-tuple
    that unpacks and compares as one (value is the stored bytes), with
    .type (the value's serde tag, None when none was given), .task_path
    ("" when none was given) and .idx (its position in the put_writes
    call, or -1..-4 for __error__, __scheduled__, __interrupt__, __resume__)
    besides; they take no part in ==."""

    def __new__(cls, task_id, channel, value, type=None, task_path="", idx=0):
        w = tuple.__new__(cls, (task_id, channel, value))
        w.type, w.task_path, w.idx = type, task_path, idx
        return w

    def __getnewargs__(self):
        return (self[0], self[1], self[2], self.type, self.task_path, self.idx)

    task_id = property(lambda self: self[0])
    channel = property(lambda self: self[1])
    value = property(lambda self: self[2])

    def __repr__(self):
        return "Write(task_id=%r, channel=%r, %d bytes, type=%r, " \
            "task_path=%r, idx=%d)" % (self[0], self[1], len(self[2]),
                                       self.type, self.task_path, self.idx)


class CheckpointTuple:
    """LangGraph's CheckpointTuple: config, checkpoint (bytes), metadata
    (a dict), parent_config, pending_writes [Write], and besides type (the
    checkpoint's serde tag), metadata_type (the metadata's) and channels
    {channel: (version, type, value bytes)}: the stored values of the
    versions put named, a channel without one left out."""

    __slots__ = ("config", "checkpoint", "metadata", "parent_config",
                 "pending_writes", "type", "metadata_type", "channels")

    def __init__(self, config, checkpoint, metadata, parent_config,
                 pending_writes, type, metadata_type=None, channels=None):
        self.config, self.checkpoint, self.metadata = config, checkpoint, metadata
        self.parent_config, self.pending_writes = parent_config, pending_writes
        self.type, self.metadata_type = type, metadata_type
        self.channels = {} if channels is None else channels

    def __repr__(self):
        return "CheckpointTuple(config=%r, %d bytes, metadata=%r, " \
            "channels=%r, %d pending writes)" % (
                self.config, len(self.checkpoint), self.metadata,
                list(self.channels), len(self.pending_writes))


def _config(thread, ns, cid):
    return {"configurable": {"thread_id": thread, "checkpoint_ns": ns,
                             "checkpoint_id": cid}}


def _bytes_at(p, n):
    return ctypes.string_at(p, n) if n else b""


def _write_of(w):
    return Write(_s(w.task_id), _s(w.channel), _bytes_at(w.value, w.len),
                 _s(w.type), _s(w.task_path) or "", w.idx)


def _tuple_of(t):
    """A Python CheckpointTuple from a C tuple (copied)."""
    if t.corrupt:
        raise Corrupt(_ECORRUPT, "checkpoint %s of thread %s is corrupt" % (
            _s(t.checkpoint_id), _s(t.thread_id)))
    thread, ns, cid = _s(t.thread_id), _s(t.checkpoint_ns), _s(t.checkpoint_id)
    writes = [_write_of(t.writes[i]) for i in range(t.nwrites)]
    channels = {}
    for i in range(t.nchannels):
        c = t.channels[i]
        channels[_s(c.channel)] = (_s(c.version), _s(c.type),
                                   _bytes_at(c.value, c.len))
    parent = _s(t.parent_id)
    return CheckpointTuple(
        _config(thread, ns, cid), _bytes_at(t.data, t.len),
        json.loads(_s(t.metadata) or "{}"),
        _config(thread, ns, parent) if parent else None,
        writes, _s(t.type), _s(t.metadata_type), channels)


def _ref(config, need_thread=True):
    conf = (config or {}).get("configurable")
    if conf is None:
        raise ValueError("config has no 'configurable'")
    if need_thread and not conf.get("thread_id"):
        raise ValueError("config.configurable has no thread_id")
    ref = _Ref(_b(conf.get("thread_id")), _b(conf.get("checkpoint_ns", "")),
               _b(conf.get("checkpoint_id") or None))
    return ref, conf


def _version(v):
    """A channel version as the store keeps it: text.  LangGraph's are
    ints, floats or strings; numbers become their str()."""
    if isinstance(v, str):
        return v.encode()
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v).encode()
    raise TypeError("a channel version is a str, int or float, not %s"
                    % type(v).__name__)


def _buffer(data, keep):
    """A void pointer to a copy of data (bytes-like) that lives as long as
    keep does; None for no bytes."""
    data = bytes(data)
    if not data:
        return None, 0
    buf = ctypes.create_string_buffer(data, len(data))
    keep.append(buf)
    return ctypes.cast(buf, ctypes.c_void_p), len(data)


def _channels(versions, values, keep):
    """corral_checkpoint's versions and values arrays from put's dicts."""
    versions = versions or {}
    vers = (_Channel * max(len(versions), 1))()
    for i, (ch, ver) in enumerate(versions.items()):
        vers[i].channel, vers[i].version = ch.encode(), _version(ver)
    vals = (_Channel * max(len(values or {}), 1))()
    for i, (ch, v) in enumerate((values or {}).items()):
        if ch not in versions:
            raise ValueError("values: channel %r has no version in versions"
                             % ch)
        c = vals[i]
        c.channel, c.version = ch.encode(), _version(versions[ch])
        if v is None:
            c.type = b"empty"
        else:
            typ, data = v
            c.type = _b(typ)
            c.value, c.len = _buffer(data, keep)
    keep += [vers, vals]
    return (vers if versions else None, len(versions),
            vals if values else None, len(values or {}))


def _metadata_text(metadata):
    if metadata is None:
        return b"{}"
    if isinstance(metadata, bytes):
        return metadata
    if isinstance(metadata, str):
        return metadata.encode()
    return json.dumps(metadata).encode()


def _free(p):
    # corral_get_writes's array is one malloc(3) block: the process's free
    # (the sanitizer's, when one is preloaded) releases it.
    _libc_free(ctypes.cast(p, ctypes.c_void_p))


_libc_free = ctypes.CDLL(None).free
_libc_free.restype = None
_libc_free.argtypes = [ctypes.c_void_p]


class Saver:
    """LangGraph's checkpoint saver calls over libcorral's store.

    path: a SQLite database (created if needed), or a PostgreSQL
    connection string (a postgresql:// or postgres:// URI, or libpq's
    key=value form: "host=/run/postgresql dbname=ck"), as checkpoint_db
    takes; None: in memory.  durability: "normal" or "full" (SQLite's;
    PostgreSQL commits as the server is set)."""

    # from_env's; None for a saver made otherwise.
    thread_id = None
    resume_id = None

    def __init__(self, path=None, durability="normal"):
        self._s = ctypes.c_void_p()
        # list's open cursors by id() (ctypes pointers are not hashable),
        # closed before the store is.
        self._cursors = {}
        if path is None:
            _check(_lib.corral_store_open_memory(ctypes.byref(self._s)),
                   "open a store in memory")
        else:
            why = _c_char_p()
            rc = _lib.corral_store_open(
                path.encode(), 1 if durability == "full" else 0,
                ctypes.byref(self._s), ctypes.byref(why))
            if rc != 0:
                cls = StorageError if rc in _STORAGE_KINDS else CorralError
                raise cls(rc, "%s: %s" % (_shown(path), _s(why.value) or
                          _lib.corral_strerror(rc).decode()))

    @classmethod
    def from_env(cls, env=None, durability="normal"):
        """The saver of a worker that corrald runs, from env (None:
        os.environ): its database (CORRAL_CHECKPOINT_DB, a path or a
        connection string; unset: memory), .thread_id (CORRAL_THREAD_ID;
        unset: "local"), .resume_id (CORRAL_RESUME_ID: None when unset, ""
        when the thread has none), and its writes to the thread fenced
        with CORRAL_LEASE_TOKEN when set (a positive decimal integer; a
        bad one raises CorralError).  As for a Worker, an uncaught
        StorageError then exits 74 and an uncaught Fenced 75."""
        env = os.environ if env is None else env
        token = env.get("CORRAL_LEASE_TOKEN") or None
        if token is not None:
            token = _lease_token(token, "CORRAL_LEASE_TOKEN")
            if token == 0:
                raise CorralError(_EINVAL, "CORRAL_LEASE_TOKEN is not a "
                                  "positive decimal integer: '0'")
        _exit_on_storage_error()
        s = cls(env.get("CORRAL_CHECKPOINT_DB") or None, durability)
        s.thread_id = env.get("CORRAL_THREAD_ID") or "local"
        s.resume_id = env.get("CORRAL_RESUME_ID")
        if token is not None:
            try:
                s.fence(s.thread_id, token)
            except BaseException:
                s.close()
                raise
        return s

    def fence(self, thread_id, token):
        """Fence this saver's writes (put, put_writes, delete_thread) to
        thread_id with token, a lease's fencing token: on PostgreSQL each
        then commits only while the thread's lease holds that token, and
        raises Fenced, writing nothing, once another node took the thread
        over.  Token 0 lifts the fence; a no-op on SQLite and in memory."""
        _check(_lib.corral_store_fence(
            self._store(), _b(thread_id),
            _lease_token(token, "the fencing token")), "fence", self._s)

    def close(self):
        """Close the store, and with it the cursors of list's generators
        still open (they raise CorralError if iterated further)."""
        for cur in self._cursors.values():
            _lib.corral_list_close(cur)
        self._cursors.clear()
        if self._s:
            _lib.corral_store_close(self._s)
            self._s = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if hasattr(self, "_cursors"):
            self.close()

    def _store(self):
        if not self._s:
            raise CorralError(_EINVAL, "the saver is closed")
        return self._s

    def put(self, config, checkpoint, metadata=None, *, id=None, type=None,
            metadata_type=None, versions=None, values=None):
        """Store checkpoint (bytes) with metadata (a dict, or a JSON
        object's text as str or bytes); the parent is config's
        checkpoint_id.  versions: {channel: version}, the versions the
        checkpoint holds (LangGraph's channel_versions); values: {channel:
        (type, bytes) or None}, the values written since the parent
        (LangGraph's newVersions with channel_values' values, None for a
        channel without one), each stored at its channel's version in
        versions, inline in this checkpoint's row; a channel it does not
        give reads its parent's value when the parent holds the same
        version, and is left out otherwise.  Versions
        are text in the store: ints and floats become their str().
        Returns the new checkpoint's config."""
        ref, conf = _ref(config)
        keep = []
        data, n = _buffer(checkpoint, keep)
        vers, nvers, vals, nvals = _channels(versions, values, keep)
        cp = _Checkpoint(_b(id), _b(type), data, n, _metadata_text(metadata),
                         _b(metadata_type), vers, nvers, vals, nvals)
        out = ctypes.create_string_buffer(_KEY)
        _check(_lib.corral_put(self._store(), ctypes.byref(ref),
                               ctypes.byref(cp), out, _KEY), "put", self._s)
        return _config(conf["thread_id"], conf.get("checkpoint_ns", ""),
                       out.value.decode())

    def get_tuple(self, config):
        """The checkpoint named by config (the latest without a
        checkpoint_id), or None.  Raises Corrupt for a corrupt row."""
        conf = (config or {}).get("configurable") or {}
        if not conf.get("thread_id"):
            return None
        ref, _ = _ref(config)
        t = ctypes.POINTER(_Tuple)()
        rc = _lib.corral_get_tuple(self._store(), ctypes.byref(ref),
                                   ctypes.byref(t))
        try:
            if rc == _NOTFOUND:
                return None
            _check(rc, "get_tuple", self._s)
            return _tuple_of(t.contents)
        finally:
            _lib.corral_tuple_free(t)

    def get(self, config):
        t = self.get_tuple(config)
        return t.checkpoint if t else None

    def list(self, config=None, *, before=None, limit=None, filter=None):
        """A generator of checkpoints newest first, as LangGraph's list:
        thread and namespace when config gives them, before (a config),
        limit, filter (top-level metadata keys).  Corrupt rows are
        skipped.  It reads the store one tuple at a time (a cursor, opened
        at the first next()): the saver may be called between two, writes
        included, and a checkpoint put meanwhile is seen if and only if it
        sorts after the last one yielded.  The cursor is closed when the
        generator ends, is closed or collected, or the saver is closed."""
        conf = (config or {}).get("configurable") or {}
        bconf = (before or {}).get("configurable") or {}
        opts = _ListOpts(_b(conf.get("thread_id") or None),
                         _b(conf.get("checkpoint_ns")),
                         _b(bconf.get("checkpoint_id")),
                         json.dumps(filter).encode() if filter else None,
                         limit or 0)
        cur = ctypes.c_void_p()
        _check(_lib.corral_list_open(self._store(), ctypes.byref(opts),
                                     ctypes.byref(cur)), "list", self._s)
        self._cursors[id(cur)] = cur
        try:
            while True:
                if self._cursors.get(id(cur)) is not cur:
                    raise CorralError(_EINVAL, "list: the saver was closed")
                tp = ctypes.POINTER(_Tuple)()
                rc = _lib.corral_list_next(cur, ctypes.byref(tp))
                if rc == _NOTFOUND:
                    return
                if rc == _ECORRUPT:
                    continue
                _check(rc, "list", self._s)
                t = _tuple_of(tp.contents)  # copied: tp dies at next()
                yield t
        finally:
            if self._cursors.get(id(cur)) is cur:
                del self._cursors[id(cur)]
                _lib.corral_list_close(cur)

    def put_writes(self, config, writes, task_id, task_path=""):
        """Store [(channel, value), ...] for task_id (and LangGraph's
        task_path, which orders a step's writes before the task id does)
        against the checkpoint config names.  A value is bytes, or (type,
        bytes) with its serde tag."""
        ref, conf = _ref(config)
        if not conf.get("checkpoint_id"):
            raise ValueError("config.configurable has no checkpoint_id")
        arr = (_Write * max(len(writes), 1))()
        keep = []
        for i, (channel, value) in enumerate(writes):
            typ = None
            if isinstance(value, tuple):
                typ, value = value
            w = arr[i]
            w.channel, w.type = channel.encode(), _b(typ)
            w.value, w.len = _buffer(value, keep)
        _check(_lib.corral_put_writes_path(
            self._store(), ctypes.byref(ref), task_id.encode(),
            _b(task_path or ""), arr, len(writes)), "put_writes", self._s)

    def get_writes(self, config, channel=None):
        """The writes stored against the checkpoint config names (on
        channel only, when given), in a tuple's order: (task_path,
        task_id, idx).  For LangGraph's pending sends of a checkpoint of
        format < 4: get_writes(its parent_config, "__pregel_tasks")."""
        ref, conf = _ref(config)
        if not conf.get("checkpoint_id"):
            raise ValueError("config.configurable has no checkpoint_id")
        out = ctypes.POINTER(_Write)()
        n = ctypes.c_size_t(0)
        rc = _lib.corral_get_writes(self._store(), ctypes.byref(ref),
                                    _b(channel), ctypes.byref(out),
                                    ctypes.byref(n))
        try:
            _check(rc, "get_writes", self._s)
            return [_write_of(out[i]) for i in range(n.value)]
        finally:
            if out:
                _free(out)

    def delete_thread(self, thread_id):
        _check(_lib.corral_delete_thread(self._store(), thread_id.encode()),
               "delete_thread", self._s)


class _PipeTolerant:
    """sys.stdout or sys.stderr once the worker is stopping: a write to a
    pipe nobody reads any more (corrald died, and its death is what told
    the worker to stop) is dropped instead of raising BrokenPipeError, so
    that the worker reaches its last checkpoint."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, data):
        try:
            return self._stream.write(data)
        except BrokenPipeError:
            return len(data)

    def flush(self):
        try:
            self._stream.flush()
        except BrokenPipeError:
            pass

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _tolerate_broken_pipes():
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, _PipeTolerant):
            setattr(sys, name, _PipeTolerant(stream))


def _exit_on_storage_error():
    """Make an uncaught StorageError end the process with EX_IOERR instead
    of Python's 1 (which corrald would class an error, and count toward
    rolling back a good checkpoint), and an uncaught Fenced with
    EX_TEMPFAIL.  The traceback is printed first, as for any uncaught
    exception; then the standard streams are flushed and the process exits
    at once (os._exit: SQLite's files are safe without a close, and a
    PostgreSQL transaction not committed is rolled back)."""
    prev = sys.excepthook
    if getattr(prev, "_corral_storage", False):
        return

    def hook(tp, value, tb):
        prev(tp, value, tb)
        if isinstance(value, (StorageError, Fenced)):
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
            os._exit(EX_IOERR if isinstance(value, StorageError)
                     else EX_TEMPFAIL)
    hook._corral_storage = True
    sys.excepthook = hook


class Worker:
    """A worker's bond with corrald (or alone: thread "local", a store in
    memory or checkpoint_db, notify calls do nothing).  checkpoint_db (or
    CORRAL_CHECKPOINT_DB) is a path or a PostgreSQL connection string; with
    CORRAL_LEASE_TOKEN set, the thread's writes are fenced with it, and
    one refused raises Fenced.  An uncaught StorageError ends the process
    with exit status 74 (EX_IOERR), an uncaught Fenced with 75
    (EX_TEMPFAIL)."""

    def __init__(self, thread_id=None, checkpoint_db=None, durability="normal",
                 checkpoint_interval_ms=0):
        _exit_on_storage_error()
        opts = _WorkerOpts(_b(thread_id), _b(checkpoint_db),
                           1 if durability == "full" else 0,
                           checkpoint_interval_ms, None, False)
        self._w = ctypes.c_void_p()
        why = _c_char_p()
        rc = _lib.corral_worker_init(ctypes.byref(opts), ctypes.byref(self._w),
                                     ctypes.byref(why))
        if rc != 0:
            db = checkpoint_db or os.environ.get("CORRAL_CHECKPOINT_DB") or "(memory)"
            what = _s(why.value) or _lib.corral_strerror(rc).decode()
            cls = StorageError if rc in _STORAGE_KINDS else CorralError
            if "CORRAL_LEASE_TOKEN" in what:
                raise cls(rc, "corral worker: %s" % what)
            raise cls(rc, "corral worker: checkpoint database %s: %s" % (
                _shown(db), what))

    def close(self):
        if self._w:
            _lib.corral_worker_free(self._w)
            self._w = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    @property
    def thread_id(self):
        return _lib.corral_worker_thread_id(self._w).decode()

    @property
    def supervised(self):
        return bool(_lib.corral_worker_supervised(self._w))

    @property
    def stopping(self):
        """True once corrald's stop signal arrived: checkpoint and exit.
        From then on, printing to a pipe nobody reads is not an error."""
        if not _lib.corral_worker_stopping(self._w):
            return False
        _tolerate_broken_pipes()
        return True

    @property
    def checkpoint_due(self):
        return bool(_lib.corral_worker_checkpoint_due(self._w))

    def resume(self):
        """The checkpoint to continue from, or None."""
        t = ctypes.POINTER(_Tuple)()
        rc = _lib.corral_worker_resume(self._w, ctypes.byref(t))
        if rc == _NOTFOUND:
            return None
        _check(rc, "resume", _lib.corral_worker_store(self._w))
        c = t.contents  # owned by the worker
        return Checkpoint(_s(c.checkpoint_id), _s(c.parent_id),
                          ctypes.string_at(c.data, c.len) if c.len else b"",
                          json.loads(_s(c.metadata) or "{}"))

    def checkpoint(self, data, metadata=None):
        """Store data (bytes); returns the new checkpoint's id."""
        data = bytes(data)
        buf = ctypes.create_string_buffer(data, len(data)) if data else None
        out = ctypes.create_string_buffer(_KEY)
        _check(_lib.corral_worker_checkpoint(
            self._w, ctypes.cast(buf, ctypes.c_void_p) if buf else None,
            len(data), json.dumps(metadata).encode() if metadata is not None
            else None, out, _KEY), "checkpoint",
            _lib.corral_worker_store(self._w))
        return out.value.decode()

    def ready(self):
        _check(_lib.corral_worker_ready(self._w), "ready")

    def heartbeat(self):
        _check(_lib.corral_worker_heartbeat(self._w), "heartbeat")

    def status(self, text):
        _check(_lib.corral_worker_status(self._w, text.encode()), "status")

    def report_error(self, message, *, severity="error", recoverable=True,
                     code=""):
        _check(_lib.corral_worker_report_error(
            self._w, _SEVERITY[severity], recoverable, str(code).encode(),
            message.encode()), "report_error")
