// The suite's opt-in getDeltaChannelHistory tests against CorralSaver.
import { deltaChannelHistoryTests } from "@langchain/langgraph-checkpoint-validation";
import { cleanup, initializer } from "./backend.mjs";

deltaChannelHistoryTests(initializer);
afterAll(cleanup);
