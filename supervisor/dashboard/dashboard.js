/*
 * corrald's dashboard: polls /status and /events of the corrald that
 * serves it and shows them.  Read-only: it sends GET requests and nothing
 * else.  Every name and message from corrald goes into the page as text
 * (textContent), never as markup.  With http_token set, the token typed
 * in is kept in this tab's sessionStorage and sent as a bearer token.
 */
"use strict";

(function () {
	var POLL_MS = 1500;   /* between the end of a poll and the next */
	var FETCH_MS = 5000;  /* a poll that takes longer is abandoned */
	var KEEP = 200;       /* events kept on the page */
	var TOKEN_KEY = "corral-dashboard-token";

	var lastId = 0;       /* the newest event shown */
	var timer = null;
	var token = sessionStorage.getItem(TOKEN_KEY);

	var SIGNALS = {
		1: "HUP", 2: "INT", 3: "QUIT", 4: "ILL", 5: "TRAP", 6: "ABRT",
		7: "BUS", 8: "FPE", 9: "KILL", 10: "USR1", 11: "SEGV",
		12: "USR2", 13: "PIPE", 14: "ALRM", 15: "TERM", 24: "XCPU",
		25: "XFSZ", 31: "SYS"
	};
	var STATE_CLASS = {
		RUNNING: "s-ok", STARTING: "s-info", STOPPING: "s-info",
		BACKOFF: "s-warn", DEGRADED: "s-warn", LIMITED: "s-warn",
		FATAL: "s-bad", HELD: "s-held",
		CLOSED: "s-ok", HALF_OPEN: "s-warn", OPEN: "s-bad",
		HEALTHY: "s-ok", CRITICAL: "s-bad"
	};
	/* Totals in the header, in this order; the rest are summed as other. */
	var TOTALS = [
		["RUNNING", "running", "t-ok"], ["STARTING", "starting", ""],
		["BACKOFF", "backoff", "t-warn"], ["DEGRADED", "degraded", "t-warn"],
		["LIMITED", "limited", "t-warn"], ["FATAL", "fatal", "t-bad"],
		["HELD", "held", "t-held"], ["STOPPING", "stopping", ""],
		["STOPPED", "stopped", ""], ["EXITED", "exited", ""],
		["ELSEWHERE", "elsewhere", ""]
	];

	function $(id) { return document.getElementById(id); }

	/* An element with a class and a text, both optional. */
	function el(tag, cls, text) {
		var e = document.createElement(tag);
		if (cls)
			e.className = cls;
		if (text !== undefined && text !== null)
			e.textContent = String(text);
		return e;
	}

	function pill(word) {
		var p = el("span", "pill " + (STATE_CLASS[word] || ""),
		    word === null || word === undefined ? "-" : word);
		return p;
	}

	function present(v) { return v !== undefined && v !== null; }

	function uptime(ms) {
		if (!present(ms))
			return "-";
		var s = Math.floor(ms / 1000);
		if (s < 60)
			return s + "." + Math.floor(ms % 1000 / 100) + "s";
		if (s < 3600)
			return Math.floor(s / 60) + "m" + pad(s % 60) + "s";
		if (s < 86400)
			return Math.floor(s / 3600) + "h" + pad(Math.floor(s % 3600 / 60)) + "m";
		return Math.floor(s / 86400) + "d" + pad(Math.floor(s % 86400 / 3600)) + "h";
	}

	function pad(n) { return n < 10 ? "0" + n : String(n); }

	function bytes(n) {
		if (!present(n))
			return "-";
		if (n < 1024 * 1024)
			return (n / 1024).toFixed(0) + " KiB";
		if (n < 1024 * 1024 * 1024)
			return (n / 1048576).toFixed(1) + " MiB";
		return (n / 1073741824).toFixed(2) + " GiB";
	}

	function cpu(w) {
		if (present(w.cpu_percent))
			return Number(w.cpu_percent).toFixed(1) + "%";
		if (present(w.cpu_ms))
			return (w.cpu_ms / 1000).toFixed(1) + "s";
		return "-";
	}

	/* A checkpoint id: its start is enough to tell it (title: all). */
	function short(id) {
		return id.length > 12 ? id.slice(0, 8) + "\u2026" : id;
	}

	function signame(n) { return SIGNALS[n] ? "SIG" + SIGNALS[n] : "signal " + n; }

	/* As corralctl status words it: crash (SIGSEGV), failure (1). */
	function lastExit(x) {
		if (!present(x))
			return "-";
		if (x.signal > 0)
			return x["class"] + " (" + signame(x.signal) + ")";
		return x["class"] + " (" + x.code + ")";
	}

	function clock(ms) {
		var d = new Date(ms);
		return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" +
		    pad(d.getSeconds());
	}

	/* GET path as JSON; a 401 asks for the token. */
	function get(path) {
		var headers = {};
		var ctl = new AbortController();
		var t = setTimeout(function () { ctl.abort(); }, FETCH_MS);
		if (token)
			headers.Authorization = "Bearer " + token;
		return fetch(path, {
			headers: headers, cache: "no-store", credentials: "omit",
			signal: ctl.signal
		}).then(function (r) {
			clearTimeout(t);
			if (r.status === 401) {
				var e = new Error("the token is wrong or missing");
				e.auth = true;
				throw e;
			}
			if (!r.ok)
				throw new Error(path + ": HTTP " + r.status);
			return r.json();
		}, function (e) {
			clearTimeout(t);
			throw e;
		});
	}

	function conn(cls, text) {
		var c = $("conn");
		c.className = "conn " + cls;
		c.textContent = text;
	}

	function cell(tr, col, value, cls) {
		var td = el("td", cls);
		td.dataset.col = col;
		if (value instanceof Node)
			td.appendChild(value);
		else
			td.textContent = present(value) && value !== "" ? String(value) : "-";
		tr.appendChild(td);
		return td;
	}

	function note(w) {
		if (w.storage_error)
			return "storage " + w.storage_error.kind + ": " + w.storage_error.reason;
		if (w.last_report)
			return w.last_report.severity + " " + w.last_report.code + ": " +
			    w.last_report.message;
		if (w.lease && w.lease.reason)
			return "lease: " + w.lease.reason;
		if (w.held)
			return "held by an operator";
		return w.status_text;
	}

	function renderWorkers(ws) {
		var body = $("workers").tBodies[0];
		var rows = [];
		ws.forEach(function (w) {
			var tr = el("tr");
			var n;
			tr.dataset.worker = w.name;
			cell(tr, "name", w.name, "name");
			cell(tr, "cluster", w.cluster);
			cell(tr, "state", pill(w.state));
			cell(tr, "breaker", present(w.breaker) ? pill(w.breaker) : "-");
			cell(tr, "pid", w.pid, "num");
			cell(tr, "uptime", uptime(w.uptime_ms), "num");
			cell(tr, "restarts", w.restarts, "num");
			n = cell(tr, "failures", w.start_failures + "/" + w.runtime_failures,
			    "num" + (w.failures > 0 ? " nonzero" : ""));
			n.title = "start failures / failures at run time; " +
			    w.failures + " in a row";
			cell(tr, "last_exit", lastExit(w.last_exit));
			cell(tr, "cpu", cpu(w), "num");
			cell(tr, "memory", bytes(w.rss_bytes), "num");
			n = cell(tr, "note", note(w), "note");
			n.title = n.textContent;
			rows.push(tr);
		});
		body.replaceChildren.apply(body, rows);
		$("workers-count").textContent = "(" + ws.length + ")";
	}

	function renderTotals(st) {
		var counts = {}, list = $("totals"), items = [], other = 0, known = {};
		var open = {};
		st.workers.forEach(function (w) {
			counts[w.state] = (counts[w.state] || 0) + 1;
		});
		function chip(n, label, cls, key) {
			var li = el("li", cls);
			li.dataset.total = key;
			li.appendChild(el("b", null, n));
			li.appendChild(document.createTextNode(" " + label));
			items.push(li);
		}
		chip(st.workers.length, st.workers.length === 1 ? "worker" : "workers",
		    "", "workers");
		TOTALS.forEach(function (t) {
			known[t[0]] = true;
			if (counts[t[0]])
				chip(counts[t[0]], t[1], t[2], t[0]);
		});
		Object.keys(counts).forEach(function (s) {
			if (!known[s])
				other += counts[s];
		});
		if (other)
			chip(other, "other", "", "other");
		st.workers.forEach(function (w) {
			if (w.breaker === "OPEN" || w.breaker === "HALF_OPEN")
				open[w.agent] = true;
		});
		st.clusters.forEach(function (c) {
			if (c.breaker === "OPEN" || c.breaker === "HALF_OPEN")
				open["cluster " + c.name] = true;
		});
		if (Object.keys(open).length)
			chip(Object.keys(open).length, Object.keys(open).length === 1 ?
			    "breaker open" : "breakers open", "t-bad", "breakers");
		st.clusters.forEach(function (c) {
			chip(c.name, c.health.toLowerCase(), c.health === "HEALTHY" ?
			    "t-ok" : c.health === "CRITICAL" ? "t-bad" : "t-warn",
			    "cluster:" + c.name);
		});
		list.replaceChildren.apply(list, items);
	}

	function renderClusters(cs) {
		var body = $("clusters").tBodies[0];
		var rows = cs.map(function (c) {
			var tr = el("tr");
			tr.dataset.cluster = c.name;
			cell(tr, "name", c.name, "name");
			cell(tr, "health", pill(c.health));
			cell(tr, "up", c.up, "num");
			cell(tr, "down", c.down, "num");
			cell(tr, "min_healthy", c.min_healthy, "num");
			cell(tr, "breaker", pill(c.breaker));
			return tr;
		});
		body.replaceChildren.apply(body, rows);
		$("clusters").hidden = cs.length === 0;
		$("no-clusters").hidden = cs.length !== 0;
	}

	function renderStateDb(db) {
		var p = $("statedb");
		if (!db)
			return;
		p.textContent = db.condition + (db.error ? ": " + db.error : "") +
		    " \u00b7 " + db.events_queued + " events queued \u00b7 " +
		    db.events_dropped + " dropped";
		p.className = db.condition === "ok" ? "muted" : "error";
	}

	/* Who an event is about: a worker, an agent or cluster, or corrald. */
	function who(e) {
		if (!present(e.agent))
			return "corrald";
		return present(e.instance) ? e.agent + "." + e.instance : e.agent;
	}

	function what(e) {
		var s = "";
		switch (e.kind) {
		case "exit":
			s = e["class"] || "exit";
			if (e.signal > 0)
				s += " (" + signame(e.signal) + ")";
			else if (present(e.code) && e.code >= 0)
				s += " (" + e.code + ")";
			if (present(e.run_ms))
				s += " after " + uptime(e.run_ms);
			if (e.start_failure === 1)
				s += ", before it was running";
			break;
		case "spawn":
			s = "started" + (present(e.pid) ? ", pid " + e.pid : "");
			if (e.resumed_from)
				s += ", resuming " + short(e.resumed_from);
			break;
		default:
			if (present(e.prev_state) || present(e.state))
				s = (e.prev_state || "?") + " \u2192 " + (e.state || "?");
		}
		return s;
	}

	function eventClass(e) {
		if (e.kind === "exit")
			return e["class"] === "success" ? "s-ok" : "s-bad";
		if (e.kind === "breaker" || e.kind === "health")
			return STATE_CLASS[e.state] || "s-warn";
		if (e.kind === "state")
			return STATE_CLASS[e.state] || "";
		if (e.kind === "spawn")
			return "s-info";
		return "";
	}

	function addEvents(evs, fresh) {
		var list = $("events");
		var frag = document.createDocumentFragment();
		/* evs is oldest first: the newest goes on top. */
		for (var i = evs.length - 1; i >= 0; i--) {
			var e = evs[i];
			var li = el("li", fresh ? "fresh" : "");
			var w = what(e), body;
			li.dataset.id = e.id;
			li.dataset.kind = e.kind;
			li.dataset.who = who(e);
			if (present(e["class"]))
				li.dataset.class = e["class"];
			li.appendChild(el("span", "ev-time", clock(e.time_ms)));
			li.appendChild(el("span", "ev-kind pill " + eventClass(e), e.kind));
			li.appendChild(el("span", "ev-who", who(e)));
			body = el("span", "ev-what", w);
			if (present(e.detail) && e.detail !== "")
				body.appendChild(el("span", "detail", (w ? " \u00b7 " : "") +
				    e.detail));
			li.appendChild(body);
			li.title = "event " + e.id + ", " + new Date(e.time_ms).toString() +
			    (e.resumed_from ? "\nresumed from " + e.resumed_from : "");
			frag.appendChild(li);
			if (e.id > lastId)
				lastId = e.id;
		}
		list.insertBefore(frag, list.firstChild);
		while (list.children.length > KEEP)
			list.removeChild(list.lastChild);
		$("no-events").hidden = list.children.length !== 0;
	}

	function showLogin(message) {
		$("login").hidden = false;
		$("login-error").textContent = message || "";
		$("forget").hidden = true;
		conn("conn-wait", "token required");
		$("token").focus();
	}

	function poll() {
		timer = null;
		Promise.all([get("/status"),
		    get("/events?after=" + lastId + "&limit=" + KEEP)])
		    .then(function (r) {
			var first = lastId === 0;
			$("login").hidden = true;
			$("forget").hidden = !token;
			renderTotals(r[0]);
			renderWorkers(r[0].workers);
			renderClusters(r[0].clusters);
			renderStateDb(r[0].state_db);
			addEvents(r[1], !first);
			document.body.dataset.updated = String(Date.now());
			conn("conn-live", "live \u00b7 corrald pid " + r[0].pid +
			    " \u00b7 " + clock(Date.now()));
			timer = setTimeout(poll, POLL_MS);
		}, function (e) {
			if (e.auth) {
				showLogin(token ? "That token was refused." : "");
				return;
			}
			conn("conn-lost", "no answer (" + (e.message || e) +
			    "): retrying");
			timer = setTimeout(poll, POLL_MS);
		});
	}

	function start() {
		$("login-form").addEventListener("submit", function (ev) {
			ev.preventDefault();
			token = $("token").value;
			$("token").value = "";
			sessionStorage.setItem(TOKEN_KEY, token);
			if (timer === null)
				poll();
		});
		$("forget").addEventListener("click", function () {
			sessionStorage.removeItem(TOKEN_KEY);
			token = null;
			if (timer !== null)
				clearTimeout(timer);
			timer = null;
			showLogin("");
		});
		poll();
	}

	if (document.readyState === "loading")
		document.addEventListener("DOMContentLoaded", start);
	else
		start();
}());
