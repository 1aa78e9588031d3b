// SPDX-License-Identifier: MIT
/* What the end-to-end checkpoint tests share (checkpoint_helpers.h). */
#include "tests/e2e/checkpoint_helpers.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/json/json.h"

void ck_chain_dir(char *dir, size_t len, const char *name)
{
	char cmd[128];

	snprintf(dir, len, "/tmp/kt-%d-%s", getpid(), name);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

struct json_value *ck_checkpoint(const struct mig_host *h, const char *dir,
				 const char *option, struct proc_result *r)
{
	const char *argv[] = {KVMTRACK_BIN, "checkpoint", "--control",
			      h->sock,	    "--to",	  dir,
			      "--json",	    option,	  NULL};
	struct json_value *v = NULL;
	char err[256];

	cr_assert_eq(run_cmd(argv, 120, r), 0);
	if (r->status == 0)
		cr_assert_eq(
		    json_parse(r->out, strlen(r->out), &v, err, sizeof(err)), 0,
		    "%s: %s", err, r->out);
	return v;
}

uint64_t ck_expect_checkpoint(const struct mig_host *h, const char *dir,
			      const char *name, const char *parent,
			      uint64_t *pause_pages_out)
{
	struct proc_result r;
	struct json_value *v =
	    ck_checkpoint(h, dir, parent ? "--incremental" : NULL, &r);
	const char *s = "", *digest = "";
	uint64_t pages = 0, bytes = 0, pause_pages = 0;

	cr_assert(v, "checkpoint %s failed (%d): %s", name, r.status, r.err);
	json_get_string(v, "name", &s);
	cr_expect_str_eq(s, name);
	if (parent) {
		cr_expect_eq(json_get_string(v, "parent", &s), 0, "%s", r.out);
		cr_expect_str_eq(s, parent);
	} else {
		cr_expect(strstr(r.out, "\"parent\":null"), "%s", r.out);
	}
	json_get_string(v, "digest", &digest);
	cr_expect_eq(strlen(digest), 16, "%s", r.out);
	cr_expect_eq(json_get_u64(v, "pages", &pages), 0, "%s", r.out);
	cr_expect_eq(json_get_u64(v, "bytes", &bytes), 0, "%s", r.out);
	cr_expect_geq(bytes, pages * 4096, "%s", r.out);
	cr_expect_eq(json_get_u64(v, "pause_pages", &pause_pages), 0, "%s",
		     r.out);
	cr_expect_leq(pause_pages, pages, "%s", r.out);
	if (pause_pages_out)
		*pause_pages_out = pause_pages;
	cr_expect(json_num(v, "pause_ms") > 0, "%s", r.out);
	cr_expect(json_num(v, "total_ms") >= json_num(v, "pause_ms"), "%s",
		  r.out);
	json_free(v);
	proc_result_free(&r);
	return pages;
}

void ck_restore(struct mig_host *h, const char *name, const char *spec)
{
	mig_restore_in(h, NULL, name, spec, true);
}

void ck_expect_refused(const char *spec, const char *extra, const char *why)
{
	const char *argv[] = {
	    KVMTRACK_BIN, "run", "--serial", "none",
	    "--restore",  spec,	 extra,	     extra ? "128M" : NULL,
	    NULL};
	struct proc_result r;

	cr_assert_eq(run_cmd(argv, 60, &r), 0);
	cr_expect_eq(r.status, 1, "restore of %s: status %d: %s", spec,
		     r.status, r.err);
	cr_expect(r.err && strstr(r.err, why), "'%s' does not say '%s'", r.err,
		  why);
	proc_result_free(&r);
}

void ck_shell(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* Region 0's bitmap words of layer dir/name (its pages file starts with
 * them; the guest's RAM is one region). */
static uint64_t *bitmap(const char *dir, const char *name, size_t *words)
{
	char path[160];
	size_t len;
	uint64_t *w;

	snprintf(path, sizeof(path), "%s/%s/pages", dir, name);
	w = (uint64_t *)read_file(path, &len);
	cr_assert(w, "%s", path);
	*words = len / 8;
	return w;
}

long ck_page_held_only_by(const char *dir, const char *name,
			  const char *const *newer)
{
	size_t words, n;
	uint64_t *own = bitmap(dir, name, &words);
	long page = -1;

	for (; *newer; newer++) {
		uint64_t *other = bitmap(dir, *newer, &n);

		for (size_t i = 0; i < words && i < n; i++)
			own[i] &= ~other[i];
		free(other);
	}
	/* The bitmap holds 1 bit a page: the hashes after it are not bits,
	 * but the first set bit comes first. */
	for (size_t i = 0; i < words && page < 0; i++)
		if (own[i])
			page = (long)(i * 64 + (size_t)__builtin_ctzll(own[i]));
	free(own);
	return page;
}
