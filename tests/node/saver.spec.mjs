// LangGraph JS's validation suite (718 tests) against CorralSaver.
import { specTest } from "@langchain/langgraph-checkpoint-validation";
import { cleanup, initializer } from "./backend.mjs";

specTest(initializer);
afterAll(cleanup);
