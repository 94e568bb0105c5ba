// The initializer the validation suite calls: a fresh, empty CorralSaver
// per createCheckpointer, on the backend CORRAL_BACKEND names ("sqlite": a
// new database file in a temporary directory, removed with its -wal and
// -shm by destroyCheckpointer; "memory").  The name is neutral, not one of
// those the suite skips tests for.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CorralSaver } from "./langgraph/index.mjs";

const backend = process.env.CORRAL_BACKEND ?? "sqlite";
if (backend !== "sqlite" && backend !== "memory")
  throw new Error(`CORRAL_BACKEND must be sqlite or memory, not ${backend}`);

let dir;
let n = 0;

// Each spec file runs in a worker of its own: each makes its directory,
// and removes it after its tests (afterAll(cleanup)).
export function cleanup() {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}

export const initializer = {
  checkpointerName: `CorralSaver(${backend})`,
  createCheckpointer() {
    if (backend === "memory") return new CorralSaver();
    dir ??= mkdtempSync(join(tmpdir(), "corral-node-"));
    return new CorralSaver({ path: join(dir, `saver-${++n}.db`) });
  },
  destroyCheckpointer(saver) {
    saver.close();
    if (saver.path !== ":memory:")
      for (const suffix of ["", "-wal", "-shm"])
        rmSync(saver.path + suffix, { force: true });
  },
};
