// LangGraph JS's validation suite (718 tests) against CorralSaver.  The
// suite runs the initializer's beforeAll and afterAll (backend.mjs).
import { specTest } from "@langchain/langgraph-checkpoint-validation";
import { initializer } from "./backend.mjs";

specTest(initializer);
