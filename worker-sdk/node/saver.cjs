"use strict";
/*
 * CorralSaver: LangGraph's checkpoint saver over libcorral's store
 * (corral.node).  Made by a function of @langchain/langgraph-checkpoint's
 * module, so that index.mjs extends the ES module's BaseCheckpointSaver
 * and index.cjs the CommonJS one: each world gets its own class, and no
 * copy of the other is loaded.
 *
 * The storage model is PostgresSaver's: a checkpoint is stored without its
 * channel_values; each channel's value is stored once per version (the
 * versions of newVersions), and a read puts channel_values back together
 * from the checkpoint's channel_versions.  Everything is serialized with
 * this.serde, as the stock savers do; the store sees opaque bytes.
 */
const path = require("node:path");

let native;

/*
 * The addon: $CORRAL_NODE_ADDON, else corral.node beside this file (the
 * package as make builds it), else the source tree's build (loaded from
 * worker-sdk/node).
 */
function addon() {
	if (native !== undefined) return native;
	const tried = [];
	const candidates = process.env.CORRAL_NODE_ADDON
		? [process.env.CORRAL_NODE_ADDON]
		: [path.join(__dirname, "corral.node"),
		   path.join(__dirname, "..", "..", "build", "node", "langgraph", "corral.node")];
	for (const file of candidates) {
		try {
			native = require(file);
			return native;
		} catch (e) {
			if (e.code !== "MODULE_NOT_FOUND") throw e;
			tried.push(file);
		}
	}
	const e = new Error(`@corral/langgraph: corral.node not found (tried ${tried.join(", ")}); ` +
		"build it with make, or name it in CORRAL_NODE_ADDON");
	e.code = "MODULE_NOT_FOUND";
	throw e;
}

function invalid(message) {
	const e = new Error(`corral: ${message}`);
	e.code = "CORRAL_EINVAL";
	return e;
}

/*
 * A fencing token as the addon takes it: a BigInt in [0, 2^63), from a
 * BigInt, a safe integer or a decimal string; what names it says where
 * a bad one came from.
 */
function tokenOf(token, what) {
	let t;
	if (typeof token === "bigint") t = token;
	else if (typeof token === "number" && Number.isSafeInteger(token)) t = BigInt(token);
	else if (typeof token === "string" && /^[0-9]+$/.test(token)) t = BigInt(token);
	if (t === undefined || t < 0n || t >= 1n << 63n)
		throw invalid(`${what} is not a decimal integer in [0, 2^63): ${JSON.stringify(String(token))}`);
	return t;
}

/* LangGraph's getCheckpointId: checkpoint_id, or the legacy thread_ts. */
function checkpointIdOf(configurable) {
	return configurable.checkpoint_id || configurable.thread_ts || undefined;
}

function define(lg) {
	const { BaseCheckpointSaver, JsonPlusSerializer, TASKS, maxChannelVersion } = lg;

	class CorralSaver extends BaseCheckpointSaver {
		/**
		 * opts.path: a SQLite database (created if missing), or a
		 * PostgreSQL connection string (a postgresql:// or
		 * postgres:// URI, or libpq's key=value form: host=...
		 * dbname=...), as checkpoint_db takes; absent or ":memory:":
		 * a store in this process's memory.
		 * opts.durability: "normal" (default) or "full" (SQLite's).
		 */
		constructor(opts = {}, serde) {
			super(serde);
			const p = opts.path;
			const durability = opts.durability ?? "normal";
			if (durability !== "normal" && durability !== "full")
				throw invalid(`durability must be "normal" or "full", not ${JSON.stringify(durability)}`);
			this.path = p === undefined || p === null || p === ":memory:" ? ":memory:" : String(p);
			this.threadId = undefined;
			this.resumeId = undefined;
			this._n = addon();
			this._h = this._n.open(this.path === ":memory:" ? undefined : this.path,
				durability === "full" ? 1 : 0);
		}

		/**
		 * The saver of a worker that corrald runs: its database
		 * (CORRAL_CHECKPOINT_DB, a path or a PostgreSQL connection
		 * string; unset: memory), its thread (CORRAL_THREAD_ID; unset:
		 * "local"), the checkpoint corrald chose to resume from
		 * (CORRAL_RESUME_ID; unset when run alone, "" when the thread
		 * has none), and its writes to that thread fenced with the
		 * lease's token (CORRAL_LEASE_TOKEN, a positive decimal
		 * integer; a bad one throws CORRAL_EINVAL).
		 */
		static fromEnv(env = process.env, opts = {}) {
			const db = env.CORRAL_CHECKPOINT_DB;
			const lease = env.CORRAL_LEASE_TOKEN;
			let token;
			if (lease) {
				token = tokenOf(lease, "CORRAL_LEASE_TOKEN");
				if (token === 0n)
					throw invalid('CORRAL_LEASE_TOKEN is not a positive decimal integer: "0"');
			}
			const saver = new this({ ...opts, path: db ? db : undefined }, opts.serde);
			saver.threadId = env.CORRAL_THREAD_ID ? env.CORRAL_THREAD_ID : "local";
			saver.resumeId = env.CORRAL_RESUME_ID;
			try {
				if (token !== undefined) saver.fence(saver.threadId, token);
			} catch (e) {
				saver.close();
				throw e;
			}
			return saver;
		}

		/**
		 * Fences this saver's writes (put, putWrites, deleteThread) to
		 * threadId with token, a lease's fencing token: on PostgreSQL
		 * each then commits only while the thread's lease holds that
		 * token, and rejects with code CORRAL_EFENCED, writing nothing,
		 * once another node took the thread over.  Token 0 lifts the
		 * fence.  A no-op on SQLite and in memory.
		 */
		fence(threadId, token) {
			this._n.fence(this._h, threadId === undefined || threadId === null
				? undefined : String(threadId), tokenOf(token, "the fencing token"));
		}

		/**
		 * The config a supervised graph runs with: its thread, the root
		 * namespace, and corrald's chosen checkpoint when it named one.
		 * graph.invoke(null, saver.runConfig()) continues from there: at
		 * the thread's head that is LangGraph's ordinary resume; an older
		 * one (corrald rolled back, or the newer ones do not read back)
		 * is replayed from, forking the thread.
		 */
		runConfig() {
			if (this.threadId === undefined)
				throw invalid("runConfig() needs a saver from CorralSaver.fromEnv()");
			const configurable = { thread_id: this.threadId, checkpoint_ns: "" };
			if (this.resumeId) configurable.checkpoint_id = this.resumeId;
			return { configurable };
		}

		/** Closes the store (and any list still open); idempotent. */
		close() {
			this._n.close(this._h);
		}

		async getTuple(config) {
			const c = config.configurable;
			if (c === undefined || c.thread_id === undefined || c.thread_id === null)
				return undefined;
			const id = checkpointIdOf(c);
			const raw = this._n.getTuple(this._h, String(c.thread_id), c.checkpoint_ns ?? "", id,
				this.serde.constructor === JsonPlusSerializer);
			if (raw === undefined) return undefined;
			return this._tuple(raw, id !== undefined ? config : undefined);
		}

		async *list(config, options) {
			const c = config?.configurable ?? {};
			const { limit, filter } = options ?? {};
			let before = options?.before?.configurable?.checkpoint_id;
			const only = c.checkpoint_id;
			if (limit !== undefined && limit !== null && !(limit > 0)) return;
			/*
			 * A checkpoint_id in config lists that checkpoint only:
			 * the ids below id + "\0" start with it, newest first.
			 */
			if (only) {
				if (before !== undefined && !(only < before)) return;
				before = only + "\u0000";
			}
			const thread = c.thread_id === undefined || c.thread_id === null || c.thread_id === ""
				? undefined : String(c.thread_id);
			const cursor = this._n.listOpen(this._h, thread, c.checkpoint_ns, before,
				filter === undefined || filter === null ? undefined : JSON.stringify(filter),
				limit > 0 ? Math.min(limit, 0xffffffff) : 0,
				this.serde.constructor === JsonPlusSerializer);
			try {
				/* Few crossings, and few tuples made for a consumer that stops early. */
				let batch = limit > 0 ? Math.min(limit, 100) : 25;
				for (;;) {
					const raws = this._n.listNext(cursor, batch);
					for (const raw of raws) {
						if (only && raw[2] !== only) return;
						yield await this._tuple(raw, undefined);
					}
					if (raws.length < batch) return;
					batch = Math.min(batch * 4, 1000);
				}
			} finally {
				this._n.listClose(cursor);
			}
		}

		async put(config, checkpoint, metadata, newVersions) {
			const c = config.configurable;
			if (c === undefined) throw invalid("put: config.configurable is missing");
			if (c.thread_id === undefined || c.thread_id === null || c.thread_id === "")
				throw invalid('put: config.configurable has no "thread_id"');
			const checkpoint_ns = c.checkpoint_ns ?? "";
			const values = checkpoint.channel_values ?? {};
			const versionsIn = checkpoint.channel_versions ?? {};
			/* copyCheckpoint's keys but channel_values, serialized at once. */
			const stored = {
				v: checkpoint.v,
				id: checkpoint.id,
				ts: checkpoint.ts,
				channel_versions: versionsIn,
				versions_seen: checkpoint.versions_seen ?? {},
			};
			const serde = this.serde;
			const thread = String(c.thread_id), parent = checkpointIdOf(c);
			const versions = [];
			for (const ch in versionsIn) versions.push(ch, String(versionsIn[ch]));
			/* [channel, version, type, bytes]; the objects apart, in order. */
			const out = [], objs = [];
			let joinable = serde.constructor === JsonPlusSerializer;
			for (const ch in newVersions) {
				if (Object.prototype.hasOwnProperty.call(values, ch)) {
					const v = values[ch];
					if (v instanceof Uint8Array) joinable = false;
					out.push(ch, String(newVersions[ch]), "json", undefined);
					objs.push(v);
				} else {
					out.push(ch, String(newVersions[ch]), "empty", undefined);
				}
			}
			/*
			 * One serialization of [checkpoint, metadata, values...]
			 * that the addon splits (corral_node.c, js_put), when the
			 * serializer is LangGraph's JSON one and no value is bytes
			 * (which it would write alone as "bytes", not JSON).
			 */
			if (joinable) {
				const [t, b] = await serde.dumpsTyped([stored, metadata, ...objs]);
				if (t === "json" && this._n.put(this._h, thread, checkpoint_ns, parent,
					checkpoint.id, t, b, undefined, undefined, versions, out))
					return { configurable: { thread_id: c.thread_id, checkpoint_ns, checkpoint_id: checkpoint.id } };
			}
			const [cpType, cpBytes] = await serde.dumpsTyped(stored);
			const [mdType, mdBytes] = await serde.dumpsTyped(metadata);
			for (let i = 0, k = 0; i < out.length; i += 4) {
				if (out[i + 2] === "empty") continue;
				const [t, b] = await serde.dumpsTyped(objs[k++]);
				out[i + 2] = t;
				out[i + 3] = b;
			}
			this._n.put(this._h, thread, checkpoint_ns, parent,
				checkpoint.id, cpType, cpBytes, mdType, mdBytes, versions, out);
			return { configurable: { thread_id: c.thread_id, checkpoint_ns, checkpoint_id: checkpoint.id } };
		}

		async putWrites(config, writes, taskId, taskPath) {
			const c = config.configurable;
			if (c === undefined) throw invalid("putWrites: config.configurable is missing");
			if (c.thread_id === undefined || c.thread_id === null || c.thread_id === "")
				throw invalid('putWrites: config.configurable has no "thread_id"');
			const id = checkpointIdOf(c);
			if (id === undefined) throw invalid('putWrites: config.configurable has no "checkpoint_id"');
			const flat = new Array(writes.length * 3);
			for (let i = 0; i < writes.length; i++) {
				const [t, b] = await this.serde.dumpsTyped(writes[i][1]);
				flat[i * 3] = writes[i][0];
				flat[i * 3 + 1] = t;
				flat[i * 3 + 2] = b;
			}
			this._n.putWrites(this._h, String(c.thread_id), c.checkpoint_ns ?? "", id,
				String(taskId), taskPath ?? "", flat);
		}

		async deleteThread(threadId) {
			this._n.deleteThread(this._h, String(threadId));
		}

		/*
		 * A tuple from the addon's array (corral_node.c, make_tuple):
		 * 6 elements, its JSON parts already joined in one text (with
		 * LangGraph's own serializer, when every part is JSON), or 10,
		 * each part apart.
		 */
		async _tuple(raw, config) {
			const [thread_id, checkpoint_ns, checkpoint_id, parent] = raw;
			const serde = this.serde;
			let checkpoint, metadata, pendingWrites;
			if (raw.length === 6) {
				const ids = raw[5];
				let values;
				[checkpoint, metadata, values] = await serde.loadsTyped("json", raw[4]);
				pendingWrites = new Array(values.length);
				for (let k = 0; k < values.length; k++)
					pendingWrites[k] = [ids[2 * k], ids[2 * k + 1], values[k]];
			} else {
				const [, , , , type, data, mdType, md, writes, channels] = raw;
				checkpoint = await serde.loadsTyped(type, data);
				/*
				 * CorralSaver stores checkpoints without channel_values;
				 * one stored whole by another writer keeps its own.
				 */
				if (channels.length > 0 || checkpoint.channel_values === undefined) {
					const channel_values = {};
					for (let i = 0; i < channels.length; i += 3)
						channel_values[channels[i]] = await serde.loadsTyped(channels[i + 1], channels[i + 2]);
					checkpoint.channel_values = channel_values;
				}
				pendingWrites = await this._writes(writes);
				metadata = await serde.loadsTyped(mdType, md);
			}
			if (checkpoint.v < 4 && parent !== undefined)
				await this._migratePendingSends(checkpoint, thread_id, checkpoint_ns, parent);
			const tuple = {
				config: config ?? { configurable: { thread_id, checkpoint_ns, checkpoint_id } },
				checkpoint,
				metadata,
				pendingWrites,
			};
			if (parent !== undefined)
				tuple.parentConfig = { configurable: { thread_id, checkpoint_ns, checkpoint_id: parent } };
			return tuple;
		}

		async _writes(flat) {
			const out = new Array(flat.length / 4);
			for (let i = 0, k = 0; i < flat.length; i += 4, k++)
				out[k] = [flat[i], flat[i + 1], await this.serde.loadsTyped(flat[i + 2], flat[i + 3])];
			return out;
		}

		/*
		 * Format < 4 kept pending Sends as the parent's writes on
		 * __pregel_tasks; LangGraph now wants them as that channel's
		 * value, at the greatest version the checkpoint has.
		 */
		async _migratePendingSends(checkpoint, thread_id, checkpoint_ns, parent) {
			const flat = this._n.getWrites(this._h, thread_id, checkpoint_ns, parent, TASKS);
			const sends = new Array(flat.length / 4);
			for (let i = 0, k = 0; i < flat.length; i += 4, k++)
				sends[k] = await this.serde.loadsTyped(flat[i + 2], flat[i + 3]);
			checkpoint.channel_values ??= {};
			checkpoint.channel_values[TASKS] = sends;
			checkpoint.channel_versions ??= {};
			const versions = Object.values(checkpoint.channel_versions);
			checkpoint.channel_versions[TASKS] = versions.length > 0
				? maxChannelVersion(...versions) : this.getNextVersion(undefined);
		}
	}

	return CorralSaver;
}

module.exports = define;
