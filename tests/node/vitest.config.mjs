// The validation suite's specs use vitest's globals (describe, it, expect).
// tests/node/run.sh copies this file and the specs beside the installed
// packages (BUILD/node) and runs vitest there, once per backend.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globals: true,
    include: ["saver.spec.mjs", "delta.spec.mjs", "corral.spec.mjs"],
    testTimeout: 30000,
    hookTimeout: 30000,
  },
});
