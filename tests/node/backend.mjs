// The initializer the validation suite calls: a fresh, empty CorralSaver
// per createCheckpointer, on the backend CORRAL_BACKEND names ("sqlite": a
// new database file in a temporary directory, removed with its -wal and
// -shm by destroyCheckpointer; "memory"; "postgres": a new schema, in a
// database of this spec file's own on the server CORRAL_TEST_PG names).
// The name is neutral, not one of those the suite skips tests for.
//
// Each spec file runs in a worker of its own and calls the initializer's
// beforeAll and afterAll (specTest does; the other specs hook them in):
// beforeAll makes the file's directory or database, afterAll removes it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CorralSaver } from "./langgraph/index.mjs";

export const backend = process.env.CORRAL_BACKEND ?? "sqlite";
if (!["sqlite", "memory", "postgres"].includes(backend))
  throw new Error(`CORRAL_BACKEND must be sqlite, memory or postgres, not ${backend}`);
const server = process.env.CORRAL_TEST_PG;
if (backend === "postgres" && !server)
  throw new Error("CORRAL_BACKEND=postgres needs CORRAL_TEST_PG, a connection " +
    "string to a PostgreSQL server for tests (tests/run.sh starts one)");

let dir; // sqlite: this file's directory
let database; // postgres: this file's database
let n = 0;

// Runs sql where a connection string points (CORRAL_TEST_PG's database
// unless told), quietly, and without the sanitizers' runtime, which is
// for node.
export function psql(sql, where = server) {
  const env = { ...process.env, PGOPTIONS: "-c client_min_messages=warning" };
  delete env.LD_PRELOAD;
  execFileSync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", where, "-c", sql],
    { stdio: ["ignore", "ignore", "pipe"], timeout: 60000, env });
}

const isUri = (s) => /^postgres(ql)?:\/\//.test(s);

// CORRAL_TEST_PG with another database and a search_path (the store makes
// its tables in the first schema of it), as a URI or key=value string as
// it was given: in a key=value string, a later keyword wins.
export function connString(dbname, schema) {
  if (isUri(server)) {
    const u = new URL(server);
    if (dbname !== undefined) u.pathname = `/${dbname}`;
    if (schema !== undefined) u.searchParams.set("options", `-csearch_path=${schema}`);
    return u.toString();
  }
  let s = server;
  if (dbname !== undefined) s += ` dbname=${dbname}`;
  if (schema !== undefined) s += ` options='-csearch_path=${schema}'`;
  return s;
}

function setup() {
  if (backend === "sqlite") dir = mkdtempSync(join(tmpdir(), "corral-node-"));
  if (backend === "postgres") {
    database = `corral_node_${process.pid}_${Date.now()}`;
    psql(`CREATE DATABASE ${database}`);
  }
}

function cleanup() {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  if (database !== undefined) psql(`DROP DATABASE ${database} WITH (FORCE)`);
  database = undefined;
}

export const initializer = {
  checkpointerName: `CorralSaver(${backend})`,
  beforeAll: setup,
  beforeAllTimeout: 60000,
  afterAll: cleanup,
  createCheckpointer() {
    if (backend === "memory") return new CorralSaver();
    if (backend === "sqlite") return new CorralSaver({ path: join(dir, `saver-${++n}.db`) });
    const schema = `saver_${++n}`;
    psql(`CREATE SCHEMA ${schema}`, connString(database));
    return new CorralSaver({ path: connString(database, schema) });
  },
  destroyCheckpointer(saver) {
    saver.close();
    if (backend === "sqlite")
      for (const suffix of ["", "-wal", "-shm"])
        rmSync(saver.path + suffix, { force: true });
    // postgres: the schema goes with the database, at afterAll.
  },
};
