// langgraph_resume.mjs: a LangGraph JS graph that counts to N, one
// superstep per number, checkpointed by the saver corrald's environment
// names: run under corrald, killed, restarted, it goes on from the
// checkpoint corrald chose (tests/e2e/t_langgraph.sh).
//
//   node langgraph_resume.mjs --to N [--hold K,K...] [--gate DIR]
//   node langgraph_resume.mjs --show DB THREAD
//
// The state is a list of numbers (a reducer appends) and a counter (the
// last value); the node "count" adds counter + 1 to both, and an edge loops
// back to it until the counter is N.  Before adding a number K of --hold,
// the node waits for the file DIR/go.K: the test kills the worker there
// (the checkpoints of 1..K-1 written, K not begun), then makes the file.
// A step's number is printed only once it is added, so across runs each
// "step K" line is printed once if and only if no run redid a step.
//
// Lines on stdout, one per event:
//   start thread T resume ID    (ID "-": corrald said start afresh, "?":
//                               corrald said nothing)
//   resumed at C numbers L      (the state resumed from: counter, length)
//   holding at K / step K
//   done counter N numbers 1,2,...,N
// --show prints the latest state of THREAD in DB as JSON, read back
// through a saver of its own.
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { CorralSaver } from "@corral/langgraph";
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

function arg(name, dflt) {
	const i = process.argv.indexOf(name);
	return i < 0 ? dflt : process.argv[i + 1];
}

const State = Annotation.Root({
	numbers: Annotation({
		reducer: (a, b) => a.concat(b),
		default: () => [],
	}),
	counter: Annotation({ reducer: (_, b) => b, default: () => 0 }),
});

function build(saver, to, holds, gate) {
	async function count(s) {
		const k = s.counter + 1;
		if (holds.includes(k) && !existsSync(`${gate}/go.${k}`)) {
			console.log(`holding at ${k}`);
			// The test kills the worker here; the deadline only keeps
			// a worker whose test died from waiting for ever.
			const until = Date.now() + 120000;
			while (!existsSync(`${gate}/go.${k}`)) {
				if (Date.now() > until) {
					console.error(`no ${gate}/go.${k} in 120 s`);
					process.exit(70);
				}
				await sleep(10);
			}
		}
		console.log(`step ${k}`);
		return { numbers: [k], counter: k };
	}
	return new StateGraph(State)
	    .addNode("count", count)
	    .addEdge(START, "count")
	    .addConditionalEdges("count", (s) => s.counter < to ? "count" : END)
	    .compile({ checkpointer: saver });
}

async function show(db, thread) {
	const saver = new CorralSaver({ path: db });
	const t = await saver.getTuple({ configurable: { thread_id: thread } });
	console.log(JSON.stringify(t === undefined ? null : {
		checkpoint_id: t.checkpoint.id,
		step: t.metadata.step,
		values: t.checkpoint.channel_values,
	}));
	saver.close();
}

async function run() {
	const to = Number(arg("--to", "10"));
	const holds = (arg("--hold", "") || "").split(",").filter(Boolean)
	    .map(Number);
	const gate = arg("--gate", ".");
	const saver = CorralSaver.fromEnv(process.env);
	const graph = build(saver, to, holds, gate);
	// The thread and the checkpoint corrald chose (resumeId: an id, ""
	// for none, undefined when corrald could not read the database and
	// LangGraph takes the thread's latest).
	const config = { ...saver.runConfig(), recursionLimit: to + 10 };
	const state = await graph.getState(config);
	let input = { counter: 0 };

	console.log(`start thread ${saver.threadId} resume ${
	    saver.resumeId === undefined ? "?" : saver.resumeId || "-"}`);
	if (state.values.counter !== undefined) {
		const { counter, numbers } = state.values;
		console.log(`resumed at ${counter} numbers ${numbers.length}`);
		input = null;
	}
	const out = await graph.invoke(input, config);
	console.log(`done counter ${out.counter} numbers ${out.numbers.join(",")}`);
	saver.close();
}

if (process.argv.includes("--show"))
	await show(arg("--show"), process.argv[process.argv.indexOf("--show") + 2]);
else
	await run();
