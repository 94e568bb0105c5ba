// bench_langgraph.mjs: CorralSaver (@corral/langgraph, libcorral's SQLite
// store) against LangGraph's own SqliteSaver (@langchain/langgraph-
// checkpoint-sqlite, better-sqlite3), the same operations on the same
// data in the same run (docs/PERFORMANCE.md, *LangGraph JS savers*).
//
//   node bench_langgraph.mjs SCRATCH [FIGURES]
//
// Each saver runs in a process of its own (its own heap, collector, JIT
// and SQLite: in one process each would pay for the other's garbage and
// share its compiled code's type feedback), started with --expose-gc, and
// gets a database file of its own in SCRATCH, WAL with
// synchronous NORMAL (SqliteSaver's effective settings; CorralSaver's
// durability "normal").  Every figure is measured in ROUNDS rounds after
// a warm-up; in each round the two savers run the same short batch one
// after the other, the order swapped every round, so that the machine's
// drift falls on both.  A saver's figure is the median of its rounds, in
// operations per second of processor time (below, clock()); the ratio is
// the median of the rounds' ratios (corral's over SqliteSaver's), each
// taken from two batches run moments apart; the wall-time ratio is printed
// beside it.  FIGURES, when given, gets
// "KEY VALUE" lines appended (merged into results.json by bench_spawn).
// Knobs: BENCH_LG_ROUNDS (11), BENCH_LG_PUTS (300), BENCH_LG_READS (600),
// BENCH_LG_LISTS (15), BENCH_LG_WORKLOADS ("chat plain").
import { CorralSaver } from "@corral/langgraph";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { emptyCheckpoint, uuid6 } from "@langchain/langgraph-checkpoint";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { fork } from "node:child_process";
import { appendFileSync, mkdirSync, rmSync } from "node:fs";
import { performance } from "node:perf_hooks";

// node bench_langgraph.mjs --saver NAME SCRATCH WORKLOAD: one saver's
// process (below), driven by the main one over IPC.
const child = process.argv[2] === "--saver";
const scratch = child ? process.argv[4] : process.argv[2];
const figuresFile = child ? undefined : process.argv[3];
// Batches long enough (tens of ms) that a round's ratio is not noise.
const ROUNDS = Number(process.env.BENCH_LG_ROUNDS ?? 11);
const PUTS = Number(process.env.BENCH_LG_PUTS ?? 300);
const READS = Number(process.env.BENCH_LG_READS ?? 600);
const LISTS = Number(process.env.BENCH_LG_LISTS ?? 15);
// The thread the reads go to: more checkpoints than one list takes.
const READ_CHAIN = 150;

if (!scratch) {
	console.error("usage: node bench_langgraph.mjs SCRATCH [FIGURES]");
	process.exit(2);
}

// --- the savers --------------------------------------------------------

function openCorral(path) {
	return new CorralSaver({ path, durability: "normal" });
}

function openSqlite(path) {
	return SqliteSaver.fromConnString(path);
}

// --- what LangGraph sends ----------------------------------------------

// A chat agent's state after some turns: 20 short messages and a
// counter, as LangGraph's loop builds a checkpoint after step k: the
// versions of the channels, those each node has seen, the two channels
// the step wrote in newVersions.  Two workloads: "chat", LangChain's
// message classes (which the serializer revives, object by object, on
// every read: most of a read's time, the same for both savers), and
// "plain", the same conversation as plain objects (a graph whose state is
// JSON data), where the savers' own work weighs more.
const workloads = {
	chat: (i, text, id) => i % 2 === 0 ?
	    new HumanMessage({ content: text, id }) :
	    new AIMessage({ content: text, id }),
	plain: (i, text, id) => ({ role: i % 2 === 0 ? "user" : "assistant",
	    content: text, id }),
};
let message = workloads.chat;
let messages = [];
function conversation() {
	messages = [];
	for (let i = 0; i < 20; i++)
		messages.push(message(i, i % 2 === 0 ?
		    `question ${i}: what is ${i} squared?` :
		    `${i - 1} squared is ${(i - 1) ** 2}.`, `msg-${i}`));
}

function checkpointAt(k) {
	const c = emptyCheckpoint();
	c.id = uuid6(k);
	c.channel_values = { messages, counter: k };
	c.channel_versions = { __start__: 1, messages: k + 1, counter: k + 1,
	    "branch:to:agent": k + 1 };
	c.versions_seen = {
		__input__: {},
		__start__: { __start__: 1 },
		agent: { messages: k, counter: k, "branch:to:agent": k },
	};
	return c;
}
const metadataAt = (k) => ({ source: "loop", step: k, parents: {} });
const newVersionsAt = (k) => ({ messages: k + 1, counter: k + 1 });
// A task's two writes, as a node that answers sends them.
const writesAt = (k) => [
	["messages", [message(1, `answer ${k}`, `w-${k}`)]],
	["counter", k + 1],
];

// put a chain of n checkpoints on thread; returns their configs.
async function chain(saver, thread, n) {
	let config = { configurable: { thread_id: thread, checkpoint_ns: "" } };
	const out = [];
	for (let k = 0; k < n; k++) {
		config = await saver.put(config, checkpointAt(k), metadataAt(k),
		    newVersionsAt(k));
		out.push(config);
	}
	return out;
}

// --- the operations, each timed over a batch -----------------------------

// The clocks of a batch: wall time, and the process's processor time
// (user + system, every thread: V8's collector's too).  Both savers run on
// the JavaScript thread and sync nothing at NORMAL, so processor time is
// what an operation costs, and other processes on a loaded machine blur it
// far less than the wall time.
function clock() {
	const c = process.cpuUsage();
	return { wall: performance.now() / 1000, cpu: (c.user + c.system) / 1e6 };
}
// A batch's start: on a collected heap (node --expose-gc), so that neither
// saver pays for the garbage the other left.
function start() {
	globalThis.gc?.();
	return clock();
}
function since(t0) {
	const t = clock();
	return { wall: t.wall - t0.wall, cpu: t.cpu - t0.cpu };
}

// Each returns [operations, since(start)].
const ops = {
	async put(s, round) {
		const t0 = start();
		await chain(s.saver, `put-${round}`, PUTS);
		return [PUTS, since(t0)];
	},
	async putWrites(s, round) {
		// Two tasks per checkpoint of a fresh chain, two writes each.
		const configs = await chain(s.saver, `writes-${round}`, PUTS / 2);
		const t0 = start();
		let n = 0;
		for (let k = 0; k < configs.length; k++)
			for (const task of ["a", "b"]) {
				await s.saver.putWrites(configs[k], writesAt(k),
				    `task-${task}-${k}`);
				n++;
			}
		return [n, since(t0)];
	},
	async getTupleLatest(s) {
		const config = { configurable: { thread_id: "read",
		    checkpoint_ns: "" } };
		const t0 = start();
		for (let i = 0; i < READS; i++)
			if ((await s.saver.getTuple(config)) === undefined)
				throw new Error("getTuple: no latest");
		return [READS, since(t0)];
	},
	async getTupleById(s) {
		const t0 = start();
		for (let i = 0; i < READS; i++) {
			const c = s.readConfigs[(i * 37) % s.readConfigs.length];
			if ((await s.saver.getTuple(c)) === undefined)
				throw new Error("getTuple: no such id");
		}
		return [READS, since(t0)];
	},
	async list100(s) {
		const config = { configurable: { thread_id: "read" } };
		const t0 = start();
		for (let i = 0; i < LISTS; i++) {
			let n = 0;
			for await (const t of s.saver.list(config, { limit: 100 }))
				n += t.pendingWrites.length >= 0;
			if (n !== 100)
				throw new Error(`list gave ${n} tuples, not 100`);
		}
		return [LISTS, since(t0)];
	},
};

const figures = [
	["put", "put", "langgraph_put"],
	["putWrites", "putWrites (2 writes)", "langgraph_putwrites"],
	["getTupleLatest", "getTuple latest", "langgraph_gettuple_latest"],
	["getTupleById", "getTuple by id", "langgraph_gettuple_id"],
	["list100", "list of 100", "langgraph_list100"],
];

// --- the run -----------------------------------------------------------

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function setup(name, open) {
	const dir = `${scratch}/${name}`;
	rmSync(dir, { recursive: true, force: true });
	mkdirSync(dir, { recursive: true });
	const saver = open(`${dir}/checkpoints.db`);
	// The read thread: READ_CHAIN checkpoints, each with one task's writes.
	const readConfigs = await chain(saver, "read", READ_CHAIN);
	for (let k = 0; k < readConfigs.length; k++)
		await saver.putWrites(readConfigs[k], writesAt(k), `task-${k}`);
	return { name, saver, readConfigs, rates: {}, wall: {} };
}

// A saver's process: sets up its database, then runs the batches the main
// process asks for and answers with their clocks.
async function serve(name, workload) {
	message = workloads[workload];
	conversation();
	const s = await setup(name, name === "corral" ? openCorral : openSqlite);
	const info = name === "corral" ? "" :
	    `journal_mode ${s.saver.db.pragma("journal_mode", { simple: true })}, ` +
	    `synchronous ${s.saver.db.pragma("synchronous", { simple: true })}`;
	process.on("message", async (m) => {
		if (m.op === "close") {
			if (name === "corral") s.saver.close();
			else s.saver.db.close();
			rmSync(`${scratch}/${name}`, { recursive: true, force: true });
			process.disconnect();
			return;
		}
		const [n, t] = await ops[m.op](s, m.round);
		process.send({ n, t });
	});
	process.send({ ready: true, info });
}

function spawnSaver(name, workload) {
	const p = fork(new URL(import.meta.url).pathname,
	    ["--saver", name, scratch, workload],
	    { execArgv: ["--expose-gc"], stdio: "inherit" });
	// Its messages in order: one answer per request, "ready" first.
	const s = { name, p, rates: {}, wall: {}, inbox: [], waiting: null };
	p.on("message", (m) => {
		if (s.waiting === null)
			s.inbox.push(m);
		else {
			const w = s.waiting;
			s.waiting = null;
			w(m);
		}
	});
	p.on("exit", (code) => {
		if (s.waiting !== null || code !== 0) {
			console.error(`bench_langgraph: the ${name} process ` +
			    `exited ${code}`);
			process.exit(1);
		}
	});
	s.ask = (m) => {
		if (m !== undefined) p.send(m);
		return s.inbox.length > 0 ? Promise.resolve(s.inbox.shift()) :
		    new Promise((resolve) => { s.waiting = resolve; });
	};
	return s;
}

// One workload: both savers on fresh databases, every figure in rounds.
async function run(workload) {
	const corral = spawnSaver("corral", workload);
	const sqlite = spawnSaver("sqlitesaver", workload);
	await corral.ask();
	const { info } = await sqlite.ask();
	console.log(`\nLangGraph JS savers, workload "${workload}", same ` +
	    `operations, same run: ${ROUNDS} rounds after a warm-up, the order ` +
	    "swapped every round, each saver in a process of its own");
	console.log(`  SqliteSaver: ${info} (1: NORMAL); CorralSaver: ` +
	    "durability normal");
	console.log(`  per round: put ${PUTS}, putWrites ${PUTS}, getTuple ` +
	    `${READS} each, list of 100 x ${LISTS}; 20 messages + a counter per ` +
	    "checkpoint (" + (workload === "chat" ? "LangChain's message classes" :
	    "plain objects") + ")");

	// Op by op, round by round: short batches, so that a round's two halves
	// see the same machine.
	for (const [op] of figures)
		for (let r = 0; r <= ROUNDS; r++) {
			const order = r % 2 === 0 ? [corral, sqlite] : [sqlite, corral];
			for (const s of order) {
				const { n, t } = await s.ask({ op, round: r });
				if (r > 0) { // round 0 warms up
					(s.rates[op] ??= []).push(n / t.cpu);
					(s.wall[op] ??= []).push(n / t.wall);
				}
			}
		}

	const lines = [];
	const ratios = (a, b) => median(a.map((v, i) => v / b[i]));
	console.log(`\n  ${"figure, ops/s of CPU".padEnd(28)} ${"corral".padStart(11)} ` +
	    `${"SqliteSaver".padStart(11)} ${"ratio".padStart(8)}  ` +
	    `${"target".padEnd(16)} wall-time ratio`);
	for (const [op, what, key] of figures) {
		const c = median(corral.rates[op]), b = median(sqlite.rates[op]);
		const ratio = ratios(corral.rates[op], sqlite.rates[op]);
		const wall = ratios(corral.wall[op], sqlite.wall[op]);
		console.log(`  ${what.padEnd(28)} ${c.toFixed(0).padStart(11)} ` +
		    `${b.toFixed(0).padStart(11)} ${ratio.toFixed(2).padStart(7)}x  ` +
		    `${(">= 1.0x " + (ratio >= 1 ? "met" : "NOT met")).padEnd(16)} ` +
		    `${wall.toFixed(2)}x`);
		const k = workload === "chat" ? key :
		    key.replace("langgraph_", `langgraph_${workload}_`);
		lines.push(`${k}_per_s ${c.toFixed(1)}`,
		    `${k}_sqlitesaver_per_s ${b.toFixed(1)}`,
		    `${k}_ratio ${ratio.toFixed(4)}`,
		    `${k}_wall_ratio ${wall.toFixed(4)}`);
	}
	if (figuresFile)
		appendFileSync(figuresFile, lines.join("\n") + "\n");
	for (const s of [corral, sqlite]) {
		const gone = new Promise((resolve) => s.p.on("exit", resolve));
		s.p.send({ op: "close" });
		await gone;
	}
}

if (child)
	await serve(process.argv[3], process.argv[5]);
else
	for (const w of (process.env.BENCH_LG_WORKLOADS ?? "chat plain").split(" "))
		await run(w);
