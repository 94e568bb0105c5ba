// The suite's opt-in getDeltaChannelHistory tests against CorralSaver.
// They do not run the initializer's hooks themselves: this file does.
import { deltaChannelHistoryTests } from "@langchain/langgraph-checkpoint-validation";
import { initializer } from "./backend.mjs";

beforeAll(initializer.beforeAll, initializer.beforeAllTimeout);
afterAll(initializer.afterAll);
deltaChannelHistoryTests(initializer);
