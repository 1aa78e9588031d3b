// SPDX-License-Identifier: MIT
/*
 * bench-migrate --tls-matrix: what TLS costs a migration, kvmtrack beside
 * QEMU. One workload, scenario (d): every page the guest writes is filled
 * with pseudo-random words, so nothing is elided and all of it crosses the
 * channel. Each variant below migrates it in turn, round after round, the
 * order reversed every other round, so that all of them meet the same
 * machine. Per variant: medians of the total time, the bytes on the wire
 * and the throughput (bytes on the wire over the total time, per run), and
 * that throughput against the same VMM's plain channel. The goal:
 * with TLS, kvmtrack keeps at least 60 % of its plain throughput.
 *
 * kvmtrack hands the records to the kernel (kTLS) after GnuTLS's
 * handshake; the variant with KVMTRACK_X_TLS_USERSPACE=1 keeps them in
 * GnuTLS in the process, as QEMU does, which is the choice the kernel's
 * path is measured against. The destination's log line says which path a
 * run took, and the table shows it.
 */
#include "tests/bench/bench_migrate.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TLS_GOAL 0.6 /* of the plain channel's throughput */
/*
 * Throughput needs no switch-over: a run that has not converged by then
 * is cancelled and counts with the bytes it moved in its time (its total
 * time and bytes are not in the medians of completed runs).
 */
#define TLS_TIMEOUT_S 20

static const char *const tls_names[] = { "none", "psk", "x509" };

const char *tls_name(enum bench_tls tls)
{
	return tls_names[tls];
}

enum bench_tls tls_parse(const char *word)
{
	for (int i = 0; i <= TLS_X509; i++)
		if (!strcmp(word, tls_names[i]))
			return i;
	return -1;
}

struct tls_variant {
	const char *id; /* the logs': migrate-<id>-<vmm>-<round>-dst.err */
	const char *label;
	enum vmm_id vmm;
	enum bench_tls tls;
	bool userspace; /* kvmtrack: KVMTRACK_X_TLS_USERSPACE=1 */
	bool goal; /* held to TLS_GOAL */
};

enum { V_K_PLAIN, V_K_X509, V_K_X509_GNUTLS, V_K_PSK, V_Q_PLAIN, V_Q_X509 };

static const struct tls_variant variants[] = {
	[V_K_PLAIN] = { "tls-plain", "plain TCP", VMM_KVMTRACK, TLS_NONE,
			false, false },
	[V_K_X509] = { "tls-x509", "TLS x509, records by the kernel",
		       VMM_KVMTRACK, TLS_X509, false, true },
	[V_K_X509_GNUTLS] = { "tls-x509-gnutls", "TLS x509, records by GnuTLS",
			      VMM_KVMTRACK, TLS_X509, true, false },
	[V_K_PSK] = { "tls-psk", "TLS psk, records by the kernel",
		      VMM_KVMTRACK, TLS_PSK, false, true },
	[V_Q_PLAIN] = { "tls-plain", "plain TCP", VMM_QEMU, TLS_NONE, false,
			false },
	[V_Q_X509] = { "tls-x509", "TLS x509 (tls-creds-x509, GnuTLS)",
		       VMM_QEMU, TLS_X509, false, false },
};
#define NR_VARIANTS (sizeof(variants) / sizeof(*variants))

static const char *vmm_label(enum vmm_id vmm)
{
	return vmm == VMM_KVMTRACK ? "kvmtrack" : "QEMU";
}

int tls_prepare(struct bench_env *env, const char *log_dir)
{
	static const char *const files[] = {
		"dst/ca-cert.pem", "dst/server-cert.pem", "dst/server-key.pem",
		"src/ca-cert.pem", "src/client-cert.pem", "src/client-key.pem",
		"good.psk",
	};
	char path[PATH_MAX], target[PATH_MAX];

	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		snprintf(path, sizeof(path), "%s/%s", env->tls_dir, files[i]);
		if (access(path, R_OK)) {
			fprintf(stderr, "bench-migrate: %s: %s (make tests/tls/creds/ca-cert.pem makes them)\n",
				path, strerror(errno));
			return -1;
		}
	}
	/* QEMU's tls-creds-psk reads DIR/keys.psk: a link to good.psk */
	snprintf(env->qemu_psk_dir, sizeof(env->qemu_psk_dir), "%s/qemu-psk",
		 log_dir);
	snprintf(path, sizeof(path), "%s/good.psk", env->tls_dir);
	if (!realpath(path, target)) {
		perror(path);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/keys.psk", env->qemu_psk_dir);
	if ((mkdir(env->qemu_psk_dir, 0700) && errno != EEXIST) ||
	    (unlink(path) && errno != ENOENT) || symlink(target, path)) {
		perror(path);
		return -1;
	}
	return 0;
}

/* The same VMM's plain variant. */
static unsigned int plain_of(unsigned int i)
{
	for (unsigned int p = 0; p < NR_VARIANTS; p++)
		if (variants[p].vmm == variants[i].vmm &&
		    variants[p].tls == TLS_NONE)
			return p;
	abort();
}

/* Median throughput of variant i over its VMM's plain one. */
static double vs_plain(const struct vmm_runs *v, unsigned int i)
{
	double plain = v[plain_of(i)].st[MT_WIRE_MBS].median;

	return plain > 0 ? v[i].st[MT_WIRE_MBS].median / plain : NAN;
}

static bool goal_met(const struct vmm_runs *v, unsigned int i)
{
	return vs_plain(v, i) >= TLS_GOAL;
}

/* What the destination logged of its channel in the last run that did. */
static const char *channel(const struct vmm_runs *v)
{
	const char *c = "";

	for (unsigned int i = 0; i < v->nr; i++)
		if (*v->r[i].channel)
			c = v->r[i].channel;
	return c;
}

static void tls_run(struct bench_env *env, const struct scenario *sc,
		    const struct tls_variant *tv, unsigned int round,
		    struct vmm_runs *v)
{
	struct run_result *r = &v->r[v->nr++];

	env->tls = tv->tls;
	env->tls_userspace = tv->userspace;
	env->port++;
	migrate_run(env, sc, tv->vmm, round, r);
	v->nr_ran += r->ran;
	v->nr_completed += r->completed;
	fprintf(stderr,
		"bench-migrate: TLS round %u %-8s %-34s %-10s total %7.1f ms, %7.1f MiB, %6.1f MB/s%s%s\n",
		round, vmm_label(tv->vmm), tv->label, r->status, r->total_ms,
		r->wire_bytes / (1024.0 * 1024.0), r->wire_mbs,
		*r->channel ? "; " : "", r->channel);
}

static int write_json(const char *out_dir, const struct scenario *base,
		      const struct bench_env *env, const struct vmm_runs *v,
		      unsigned int rounds, const char *load0, const char *load1)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/migrate-tls.json", out_dir);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		return -1;
	}
	fprintf(f, "{\n  \"benchmark\": \"migrate-tls\",\n  \"title\": \"%s\",\n"
		   "  \"guest_cmdline\": \"%s\",\n  \"mem\": \"%s\",\n"
		   "  \"tls_dir\": ",
		base->title, base->cmdline, base->mem);
	json_string(f, env->tls_dir);
	fprintf(f, ",\n  \"rounds\": %u,\n  \"order\": \"every variant in turn, reversed every other round\",\n"
		   "  \"throughput\": \"bytes on the wire (10^6) / total time, per run\",\n"
		   "  \"goal\": \"kvmtrack with TLS (records by the kernel): throughput >= %.2fx plain\",\n"
		   "  \"loadavg_before\": \"%s\",\n  \"loadavg_after\": \"%s\",\n"
		   "  \"variants\": [\n",
		rounds, TLS_GOAL, load0, load1);
	for (unsigned int i = 0; i < NR_VARIANTS; i++) {
		const struct tls_variant *tv = &variants[i];

		fprintf(f, "   {\"vmm\": \"%s\", \"label\": \"%s\", \"tls\": \"%s\", "
			   "\"kvmtrack_tls_userspace\": %s, \"channel_logged\": ",
			vmm_label(tv->vmm), tv->label, tls_name(tv->tls),
			tv->userspace ? "true" : "false");
		json_string(f, channel(&v[i]));
		fprintf(f, ",\n    \"throughput_vs_plain\": ");
		if (isnan(vs_plain(v, i)))
			fprintf(f, "null");
		else
			fprintf(f, "%.3f", vs_plain(v, i));
		fprintf(f, ", \"goal\": %s,\n",
			!tv->goal ? "null" : goal_met(v, i) ? "\"PASS\"" : "\"MISS\"");
		json_vmm(f, &v[i], "results", true);
		fprintf(f, "   }%s\n", i + 1 < NR_VARIANTS ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	return fclose(f) ? -1 : 0;
}

static void md_table(FILE *md, const struct vmm_runs *v)
{
	static const int cols[] = { MT_TOTAL, MT_WIRE, MT_WIRE_MBS };
	char num[32];

	fprintf(md, "| VMM | channel | completed | total time, ms | on the wire, MiB | throughput, MB/s | throughput vs plain | goal | the destination logged |\n"
		    "|---|---|---:|---:|---:|---:|---:|---|---|\n");
	for (unsigned int i = 0; i < NR_VARIANTS; i++) {
		fprintf(md, "| %s | %s | %u/%u |", vmm_label(variants[i].vmm),
			variants[i].label, v[i].nr_completed, v[i].nr);
		for (size_t c = 0; c < sizeof(cols) / sizeof(*cols); c++) {
			fmt(num, sizeof(num), v[i].st[cols[c]].median);
			fprintf(md, " %s |", num);
		}
		fmt(num, sizeof(num), vs_plain(v, i));
		fprintf(md, " %sx | %s%s | %s |\n", num,
			variants[i].goal ? ">= 0.60x: " : "",
			!variants[i].goal ? "" : goal_met(v, i) ? "**PASS**" : "**MISS**",
			channel(&v[i]));
	}
	/* kvmtrack x509: the kernel's records against GnuTLS's */
	fprintf(md, "\nkvmtrack, x509, records by the kernel / by GnuTLS in the process: %.2fx the throughput.\n",
		v[V_K_X509].st[MT_WIRE_MBS].median /
			v[V_K_X509_GNUTLS].st[MT_WIRE_MBS].median);
}

/* Rows of the combined table: | benchmark | subject | median | min | max | unit | note | */
static void summary_rows(const struct scenario *base, const struct vmm_runs *v)
{
	for (unsigned int i = 0; i < NR_VARIANTS; i++) {
		const struct stats *st = &v[i].st[MT_WIRE_MBS];

		printf("| migrate TLS, %s: throughput | %s, %s | %.2f | %.2f | %.2f | MB/s | %u/%u completed, %.2fx plain |\n",
		       base->id, vmm_label(variants[i].vmm), variants[i].label,
		       st->median, st->min, st->max, v[i].nr_completed, v[i].nr,
		       vs_plain(v, i));
	}
}

int tls_matrix(struct bench_env *env, const struct scenario *base,
	       unsigned int runs, const char *out_dir, FILE *md)
{
	static struct vmm_runs v[NR_VARIANTS];
	struct scenario sc[NR_VARIANTS];
	char load0[64], load1[64];
	int ret;

	loadavg(load0, sizeof(load0));
	fprintf(stderr, "bench-migrate: TLS: %s, guest \"%s\", %u rounds of %zu variants, load %s\n",
		base->title, base->cmdline, runs, NR_VARIANTS, load0);
	for (unsigned int i = 0; i < NR_VARIANTS; i++) {
		sc[i] = *base;
		sc[i].id = variants[i].id;
		sc[i].runs = runs;
		sc[i].timeout_s = TLS_TIMEOUT_S;
	}
	for (unsigned int round = 0; round < runs; round++)
		for (unsigned int j = 0; j < NR_VARIANTS; j++) {
			unsigned int i = round & 1 ? NR_VARIANTS - 1 - j : j;

			tls_run(env, &sc[i], &variants[i], round + 1, &v[i]);
		}
	loadavg(load1, sizeof(load1));
	for (unsigned int i = 0; i < NR_VARIANTS; i++)
		runs_stats(&v[i]);
	ret = write_json(out_dir, base, env, v, runs, load0, load1);
	if (md)
		md_table(md, v);
	summary_rows(base, v);
	for (unsigned int i = 0; i < NR_VARIANTS; i++)
		if (!v[i].nr_ran)
			ret = -1;
	return ret;
}
