/*
 * plan.c: what a reload changes, decided once.  reload_plan_make() reads
 * the running fleet and the new configuration and changes nothing;
 * fleet_reload() carries its plan out, and `reload --dry-run` shows it:
 * the two cannot disagree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corrald.h"

bool
reload_restarts(const struct worker *w)
{
	/* What the operator stopped stays so; what runs or waits to, goes. */
	return !w->held && (w->pid != 0 || w->state == W_BACKOFF ||
	    w->queued);
}

void
reload_plan_make(const struct fleet *f, const struct config *next,
    struct reload_plan *p)
{
	const struct config *old = f->conf;
	struct nametab names;
	ssize_t at;
	size_t i, k;

	memset(p, 0, sizeof(*p));
	p->nagents = next->nagents;
	p->old = xcalloc(next->nagents + 1, sizeof(*p->old));
	p->same = xcalloc(next->nagents + 1, sizeof(*p->same));
	/* The fleet's rts are parallel to the running config's agents. */
	for (i = 0; i < next->nagents; i++) {
		const struct agent_conf *a = &next->agents[i];
		const struct agent_conf *oa;
		at = nametab_get(&f->rtnames, a->name);
		p->old[i] = at;
		oa = at >= 0 ? &old->agents[at] : NULL;
		p->same[i] = oa != NULL && agent_conf_same_process(oa, a);
		for (k = 0; k < a->numprocs; k++) {
			const struct agent_rt *rt = at >= 0 ? f->rts[at] : NULL;
			if (rt == NULL || k >= rt->nworkers)
				p->added++;
			else if (p->same[i])
				p->kept++;
			else
				p->changed++;
		}
	}
	/* Kept: its agent is still there, with as many instances. */
	memset(&names, 0, sizeof(names));
	for (i = 0; i < next->nagents; i++)
		nametab_put(&names, next->agents[i].name, i);
	for (i = 0; i < f->nworkers; i++) {
		const struct worker *w = f->workers[i];
		if ((at = nametab_get(&names, w->agent->name)) >= 0 &&
		    w->instance < next->agents[at].numprocs)
			continue;
		p->removed++;
	}
	nametab_free(&names);
}

void
reload_plan_free(struct reload_plan *p)
{
	free(p->old);
	free(p->same);
	memset(p, 0, sizeof(*p));
}

/* A fleet file as config_print writes it, read back as sections of
 * key = value lines (continuation lines joined). */
struct psec {
	char *name;        /* "agent:x", "cluster:y", "corrald" */
	struct strv keys;  /* parallel */
	struct strv vals;
};

struct ptext {
	struct psec *s;
	size_t n;
	struct nametab t;
};

static void
ptext_read(const struct config *c, struct ptext *pt)
{
	char *buf = NULL, *line, *save = NULL, *eq;
	size_t len = 0;
	FILE *f;

	memset(pt, 0, sizeof(*pt));
	if ((f = open_memstream(&buf, &len)) == NULL)
		fatal("out of memory printing a configuration");
	config_print(c, f);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		struct psec *s = pt->n > 0 ? &pt->s[pt->n - 1] : NULL;
		if (*line == ';' || *line == '\0')
			continue;
		if (*line == '[') {
			pt->s = xreallocarray(pt->s, pt->n + 1, sizeof(*pt->s));
			s = &pt->s[pt->n++];
			s->name = xstrndup(line + 1, strcspn(line + 1, "]"));
			strv_init(&s->keys);
			strv_init(&s->vals);
			continue;
		}
		if (s == NULL)
			continue;
		if ((*line == ' ' || *line == '\t') && s->vals.n > 0) {
			char *v;
			xasprintf(&v, "%s %s", s->vals.v[s->vals.n - 1], line);
			free(s->vals.v[s->vals.n - 1]);
			s->vals.v[s->vals.n - 1] = v;
			continue;
		}
		eq = strchr(line, '=');
		strv_push_own(&s->keys, xstrndup(line, eq != NULL ?
		    strcspn(line, " =") : strlen(line)));
		strv_push(&s->vals, eq != NULL ? eq + 1 : "");
	}
	free(buf);
	/* Indexed once the array moves no more. */
	for (len = 0; len < pt->n; len++)
		nametab_put(&pt->t, pt->s[len].name, len);
}

static void
ptext_free(struct ptext *pt)
{
	size_t i;

	nametab_free(&pt->t);
	for (i = 0; i < pt->n; i++) {
		free(pt->s[i].name);
		strv_free(&pt->s[i].keys);
		strv_free(&pt->s[i].vals);
	}
	free(pt->s);
}

static const char *
psec_get(const struct psec *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->keys.n; i++)
		if (strcmp(s->keys.v[i], key) == 0)
			return s->vals.v[i];
	return NULL;
}

/* The keys whose values differ between a and b, ", "-joined; NULL: none.
 * Caller frees. */
static char *
psec_diff(const struct psec *a, const struct psec *b)
{
	char *out = NULL, *x;
	const char *v;
	size_t i;

	for (i = 0; i < b->keys.n; i++) {
		v = psec_get(a, b->keys.v[i]);
		if (v != NULL && strcmp(v, b->vals.v[i]) == 0)
			continue;
		xasprintf(&x, "%s%s%s", out ? out : "", out ? ", " : "",
		    b->keys.v[i]);
		free(out);
		out = x;
	}
	for (i = 0; i < a->keys.n; i++) {
		if (psec_get(b, a->keys.v[i]) != NULL)
			continue;
		xasprintf(&x, "%s%s%s", out ? out : "", out ? ", " : "",
		    a->keys.v[i]);
		free(out);
		out = x;
	}
	return out;
}

static void __attribute__((format(printf, 2, 3)))
line(struct strv *out, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		fatal("out of memory formatting a line");
	va_end(ap);
	strv_push_own(out, s);
}

/* Instance names of agent from k to n - 1, cut after a few. */
static void
instances(char *buf, size_t len, const char *agent, size_t k, size_t n)
{
	size_t used = 0, shown = 0;

	*buf = '\0';
	for (; k < n && used < len; k++, shown++) {
		if (shown == 8) {
			snprintf(buf + used, len - used, " and %zu more", n - k);
			return;
		}
		used += (size_t)snprintf(buf + used, len - used, "%s%s.%zu",
		    shown ? ", " : "", agent, k);
	}
}

void
reload_plan_lines(const struct fleet *f, const struct config *next,
    const struct reload_plan *p, struct strv *out)
{
	const struct config *old = f->conf;
	struct ptext po, pn;
	char sec[NAME_MAX_LEN + 16], list[512], *keys;
	ssize_t at;
	size_t i, k, nrestart;

	ptext_read(old, &po);
	ptext_read(next, &pn);
	if ((at = nametab_get(&po.t, "corrald")) >= 0 &&
	    nametab_get(&pn.t, "corrald") >= 0 &&
	    (keys = psec_diff(&po.s[at], &pn.s[nametab_get(&pn.t,
	    "corrald")])) != NULL) {
		line(out, "corrald: changed: %s", keys);
		free(keys);
	}
	for (i = 0; i < next->nclusters; i++) {
		snprintf(sec, sizeof(sec), "cluster:%s", next->clusters[i].name);
		if ((at = nametab_get(&po.t, sec)) < 0)
			line(out, "cluster %s: added", next->clusters[i].name);
		else if ((keys = psec_diff(&po.s[at], &pn.s[nametab_get(&pn.t,
		    sec)])) != NULL) {
			line(out, "cluster %s: changed: %s",
			    next->clusters[i].name, keys);
			free(keys);
		}
	}
	for (i = 0; i < old->nclusters; i++) {
		snprintf(sec, sizeof(sec), "cluster:%s", old->clusters[i].name);
		if (nametab_get(&pn.t, sec) < 0)
			line(out, "cluster %s: removed", old->clusters[i].name);
	}
	for (i = 0; i < next->nagents; i++) {
		const struct agent_conf *a = &next->agents[i];
		const struct agent_rt *rt = p->old[i] >= 0 ?
		    f->rts[p->old[i]] : NULL;
		size_t had = rt != NULL ? rt->nworkers : 0;
		if (rt == NULL) {
			instances(list, sizeof(list), a->name, 0, a->numprocs);
			line(out, "agent %s: added: %s%s", a->name,
			    a->autostart ? "starts " : "", list);
			if (!a->autostart)
				line(out, "agent %s: autostart = false: its "
				    "instances are not started", a->name);
			continue;
		}
		snprintf(sec, sizeof(sec), "agent:%s", a->name);
		keys = psec_diff(&po.s[nametab_get(&po.t, sec)],
		    &pn.s[nametab_get(&pn.t, sec)]);
		if (keys != NULL && p->same[i])
			line(out, "agent %s: changed: %s (its running instances "
			    "keep running and take the new values)", a->name,
			    keys);
		else if (keys != NULL) {
			/* The same predicate as fleet_reload's. */
			nrestart = 0;
			*list = '\0';
			for (k = 0; k < had && k < a->numprocs; k++) {
				size_t u = strlen(list);
				if (!reload_restarts(rt->workers[k]))
					continue;
				if (nrestart++ < 8)
					snprintf(list + u, sizeof(list) - u,
					    "%s%s", u ? ", " : "",
					    rt->workers[k]->name);
			}
			if (nrestart > 8) {
				size_t u = strlen(list);
				snprintf(list + u, sizeof(list) - u,
				    " and %zu more", nrestart - 8);
			}
			line(out, "agent %s: changed: %s; %s%s", a->name, keys,
			    nrestart > 0 ? "restarts " : "no instance runs: none "
			    "restarts", list);
		}
		free(keys);
		if (a->numprocs > had) {
			instances(list, sizeof(list), a->name, had,
			    a->numprocs);
			line(out, "agent %s: numprocs %zu -> %u: adds %s",
			    a->name, had, a->numprocs, list);
		} else if (a->numprocs < had) {
			instances(list, sizeof(list), a->name, a->numprocs,
			    had);
			line(out, "agent %s: numprocs %zu -> %u: stops and "
			    "removes %s", a->name, had, a->numprocs, list);
		}
	}
	for (i = 0; i < old->nagents; i++) {
		snprintf(sec, sizeof(sec), "agent:%s", old->agents[i].name);
		if (nametab_get(&pn.t, sec) >= 0)
			continue;
		instances(list, sizeof(list), old->agents[i].name, 0,
		    f->rts[i]->nworkers);
		line(out, "agent %s: removed: stops and removes %s",
		    old->agents[i].name, list);
	}
	ptext_free(&po);
	ptext_free(&pn);
}

int
fleet_reload_dry(struct fleet *f, struct config_errors *errs,
    struct strv *out, char *summary, size_t len)
{
	struct config *conf;
	struct reload_plan p;

	strv_init(out);
	if ((conf = config_load(f->conf->path, errs)) == NULL) {
		snprintf(summary, len, "%s: %zu error%s; a reload would change "
		    "nothing", f->conf->path, errs->msgs.n,
		    errs->msgs.n == 1 ? "" : "s");
		return -1;
	}
	strv_free(&errs->msgs);
	reload_plan_make(f, conf, &p);
	reload_plan_lines(f, conf, &p, out);
	snprintf(summary, len, "dry run of a reload of %s: %zu added, %zu "
	    "removed, %zu changed, %zu unchanged; nothing was changed",
	    f->conf->path, p.added, p.removed, p.changed, p.kept);
	reload_plan_free(&p);
	config_free(conf);
	return 0;
}
