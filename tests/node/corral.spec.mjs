// CorralSaver's own promises, beyond LangGraph's suite: a checkpoint that
// another writer stored whole keeps its channel_values; a list may be
// broken out of, and written to while it runs; corrald's environment
// gives the thread and the checkpoint to resume from, and a bad lease
// token is an error; a failed open names the database and carries a
// code.  On PostgreSQL: a write fenced with a stale lease token is
// refused with CORRAL_EFENCED and writes nothing, and a connection
// string's password is never shown.
import { CorralSaver } from "./langgraph/index.mjs";
import { emptyCheckpoint, uuid6 } from "@langchain/langgraph-checkpoint";
import { backend, initializer, psql } from "./backend.mjs";

beforeAll(initializer.beforeAll, initializer.beforeAllTimeout);
afterAll(initializer.afterAll);

const enc = new TextEncoder();

function checkpointAt(step, values) {
  const cp = emptyCheckpoint();
  cp.id = uuid6(step);
  cp.channel_values = values;
  cp.channel_versions = Object.fromEntries(Object.keys(values).map((k) => [k, step + 1]));
  return cp;
}

describe("CorralSaver", () => {
  let saver;
  beforeEach(() => { saver = initializer.createCheckpointer(); });
  afterEach(() => initializer.destroyCheckpointer(saver));

  it("keeps the channel_values of a checkpoint stored whole by another writer", async () => {
    const cp = checkpointAt(1, { foo: "bar", n: 7 });
    // What a writer of whole checkpoints (the C or Python SDK) stores.
    saver._n.put(saver._h, "whole", "", undefined, cp.id, "json",
      enc.encode(JSON.stringify(cp)), "json", enc.encode('{"source":"input","step":0}'), [], []);
    const t = await saver.getTuple({ configurable: { thread_id: "whole" } });
    expect(t.checkpoint.channel_values).toEqual({ foo: "bar", n: 7 });
    const listed = [];
    for await (const x of saver.list({ configurable: { thread_id: "whole" } })) listed.push(x);
    expect(listed.map((x) => x.checkpoint.channel_values)).toEqual([{ foo: "bar", n: 7 }]);
  });

  it("lets a list be broken out of, and written to while it runs", async () => {
    let config = { configurable: { thread_id: "t", checkpoint_ns: "" } };
    for (let i = 0; i < 30; i++)
      config = await saver.put(config, checkpointAt(i, { i }), { source: "loop", step: i }, { i: i + 1 });
    const seen = [];
    for await (const t of saver.list({ configurable: { thread_id: "t" } })) {
      seen.push(t.checkpoint.channel_values.i);
      // A new id is the newest: it sorts before where the cursor is, so
      // this list does not see it (the next one does).
      await saver.put({ configurable: { thread_id: "t", checkpoint_ns: "" } },
        checkpointAt(100 + seen.length, { i: -1 }), { source: "fork", step: -1 }, { i: 1 });
      if (seen.length === 10) break;
    }
    expect(seen).toEqual([29, 28, 27, 26, 25, 24, 23, 22, 21, 20]);
    // The cursor was closed by the break: the store still closes cleanly after.
    const all = [];
    for await (const t of saver.list({ configurable: { thread_id: "t" } }, { limit: 1000 })) all.push(t);
    expect(all.length).toBe(30 + 10);
  });

  it("takes the thread and the checkpoint to resume from corrald's environment", () => {
    const env = { CORRAL_THREAD_ID: "agent-a/0", CORRAL_RESUME_ID: uuid6(3) };
    const s = CorralSaver.fromEnv(env);
    try {
      expect(s.threadId).toBe("agent-a/0");
      expect(s.runConfig()).toEqual({ configurable: { thread_id: "agent-a/0", checkpoint_ns: "", checkpoint_id: env.CORRAL_RESUME_ID } });
      const alone = CorralSaver.fromEnv({});
      expect(alone.runConfig()).toEqual({ configurable: { thread_id: "local", checkpoint_ns: "" } });
      alone.close();
    } finally {
      s.close();
    }
  });

  it("refuses a CORRAL_LEASE_TOKEN that is not a positive decimal integer", () => {
    for (const bad of ["abc", "0", "-3", " 5", "12x", "9223372036854775808", "0x10"]) {
      let err;
      try {
        CorralSaver.fromEnv({ CORRAL_LEASE_TOKEN: bad }).close();
      } catch (e) {
        err = e;
      }
      expect(err?.code).toBe("CORRAL_EINVAL");
      expect(err.message).toContain("CORRAL_LEASE_TOKEN");
    }
    // Fencing is a no-op in memory (and on SQLite): one node owns the store.
    const s = CorralSaver.fromEnv({ CORRAL_LEASE_TOKEN: "9223372036854775807" });
    s.close();
  });

  it("names the database and carries a code when it cannot open it", () => {
    let err;
    try {
      new CorralSaver({ path: "/nonexistent-corral-dir/x.db" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain("/nonexistent-corral-dir/x.db");
    expect(err.code).toMatch(/^CORRAL_E/);
  });
});

// Only where there are leases to fence against: registered on PostgreSQL
// alone, since run.sh counts a skipped test as failed.
if (backend === "postgres") {
  describe("CorralSaver on PostgreSQL", () => {
    let saver;
    beforeEach(() => { saver = initializer.createCheckpointer(); });
    afterEach(() => initializer.destroyCheckpointer(saver));

    it("refuses a put fenced with a stale lease token (CORRAL_EFENCED), writing nothing", async () => {
      const root = { configurable: { thread_id: "fenced", checkpoint_ns: "" } };
      // Another node took the thread over: its lease holds token 8 now.
      psql("INSERT INTO corral_leases (thread_id, holder, token, expires_at) " +
        "VALUES ('fenced', 'node-b', 8, now() + interval '1 hour')", saver.path);
      saver.fence("fenced", 8);
      const first = await saver.put(root, checkpointAt(1, { n: 1 }), { source: "input", step: -1 }, { n: 1 });
      // This saver's token is 7, the lease's before: stale.
      saver.fence("fenced", 7);
      const refused = async (p) => {
        let err;
        try { await p; } catch (e) { err = e; }
        expect(err).toBeInstanceOf(Error);
        expect(err.code).toBe("CORRAL_EFENCED");
      };
      await refused(saver.put(first, checkpointAt(2, { n: 2 }), { source: "loop", step: 0 }, { n: 2 }));
      await refused(saver.putWrites(first, [["n", 3]], "task-1"));
      await refused(saver.deleteThread("fenced"));
      // Another thread is not fenced.
      await saver.put({ configurable: { thread_id: "free", checkpoint_ns: "" } },
        checkpointAt(3, { n: 9 }), { source: "input", step: -1 }, { n: 1 });
      const t = await saver.getTuple({ configurable: { thread_id: "fenced" } });
      expect(t.checkpoint.id).toBe(first.configurable.checkpoint_id);
      expect(t.pendingWrites).toEqual([]);
      // fromEnv fences the same way from corrald's environment.
      const env = { CORRAL_CHECKPOINT_DB: saver.path, CORRAL_THREAD_ID: "fenced", CORRAL_LEASE_TOKEN: "7" };
      const s = CorralSaver.fromEnv(env);
      try {
        await refused(s.put(s.runConfig(), checkpointAt(4, { n: 4 }), { source: "loop", step: 1 }, { n: 3 }));
      } finally {
        s.close();
      }
      // Token 0 lifts the fence.
      saver.fence("fenced", 0);
      await saver.put(first, checkpointAt(5, { n: 5 }), { source: "loop", step: 0 }, { n: 2 });
    });

    it("never shows a connection string's password", () => {
      let err;
      try {
        new CorralSaver({ path: "host=/nonexistent-corral-dir dbname=x password=hunter2" });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Error);
      expect(err.code).toMatch(/^CORRAL_E/);
      expect(err.message).toContain("password=***");
      expect(err.message).not.toContain("hunter2");
    });
  });
}
