// SPDX-License-Identifier: MIT
/*
 * One migration run for bench-migrate: start a source and a destination
 * VMM, let the guest warm up, migrate (kvmtrack: `kvmtrack migrate`;
 * QEMU: QMP), and watch the guest's serial console on both sides.
 */
#include "tests/bench/bench_migrate_io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* --- QMP ------------------------------------------------------------------- */

static int qmp_connect(struct session *s, const char *path, int64_t deadline)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	while (bench_now_ns() < deadline && !s->src.eof) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
			s->qmp.fd = fd;
			break;
		}
		close(fd);
		pump(s, 20);
	}
	if (s->qmp.fd < 0)
		return -ETIMEDOUT;
	/* The greeting: {"QMP": {...}} */
	while (!s->qmp.reply && !s->qmp.eof && bench_now_ns() < deadline)
		pump(s, 50);
	return s->qmp.reply && strstr(s->qmp.reply, "\"QMP\"") ? 0 : -EPROTO;
}

/* Sends one command and pumps until its answer; the answer is in
 * s->qmp.reply. */
static int qmp_call(struct session *s, const char *cmd, int64_t timeout_ns)
{
	int64_t deadline = bench_now_ns() + timeout_ns;
	size_t len = strlen(cmd);

	free(s->qmp.reply);
	s->qmp.reply = NULL;
	if (write(s->qmp.fd, cmd, len) != (ssize_t)len ||
	    write(s->qmp.fd, "\n", 1) != 1)
		return -EIO;
	while (!s->qmp.reply) {
		if (s->qmp.eof || bench_now_ns() > deadline)
			return -ETIMEDOUT;
		pump(s, 50);
	}
	if (strstr(s->qmp.reply, "\"error\"")) {
		fprintf(stderr, "bench-migrate: QMP %s: %s\n", cmd, s->qmp.reply);
		return -EINVAL;
	}
	return 0;
}

static int qemu_prepare(struct session *s)
{
	char cmd[256];
	uint64_t bw = s->sc->max_bandwidth_bytes ? s->sc->max_bandwidth_bytes
						  : NO_CAP_BYTES;
	int ret;

	ret = qmp_connect(s, s->src_sock, bench_now_ns() + 20 * NS_PER_S);
	ret = ret ?: qmp_call(s, "{\"execute\":\"qmp_capabilities\"}", NS_PER_S * 5);
	snprintf(cmd, sizeof(cmd),
		 "{\"execute\":\"migrate-set-parameters\",\"arguments\":"
		 "{\"downtime-limit\":300,\"max-bandwidth\":%llu}}",
		 (unsigned long long)bw);
	ret = ret ?: qmp_call(s, cmd, NS_PER_S * 5);
	snprintf(cmd, sizeof(cmd),
		 "{\"execute\":\"migrate-set-capabilities\",\"arguments\":"
		 "{\"capabilities\":[{\"capability\":\"auto-converge\","
		 "\"state\":%s}]}}",
		 s->sc->auto_converge ? "true" : "false");
	ret = ret ?: qmp_call(s, cmd, NS_PER_S * 5);
	return ret;
}

static bool qemu_finished(const char *status)
{
	return !strcmp(status, "completed") || !strcmp(status, "failed") ||
	       !strcmp(status, "cancelled");
}

/*
 * QEMU 7.2 says "completed" a moment before it fills in the times: its
 * migration thread sets the state, then computes total-time, then
 * downtime, and a query in between reads them as 0. Asks again for up to
 * a second; the migration's end is when "completed" was first seen.
 */
#define TIMES_WAIT_NS NS_PER_S

static void qemu_wait_times(struct session *s)
{
	int64_t give_up = bench_now_ns() + TIMES_WAIT_NS;
	double total = 0, downtime = 0;

	while (json_num(s->qmp.reply, "total-time", &total) &&
	       json_num(s->qmp.reply, "downtime", &downtime) &&
	       (total == 0 || downtime == 0) && bench_now_ns() < give_up) {
		pump_for(s, 5);
		if (qmp_call(s, "{\"execute\":\"query-migrate\"}",
			     5 * NS_PER_S))
			return;
	}
}

/* Migrates with QMP; returns the end time, the final query in reply. */
static int64_t qemu_migrate(struct session *s, struct run_result *res)
{
	int64_t deadline = bench_now_ns() + s->sc->timeout_s * NS_PER_S;
	bool cancelled = false;
	char cmd[128];
	double pct;

	snprintf(cmd, sizeof(cmd),
		 "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"%s\"}}",
		 s->uri);
	if (qmp_call(s, cmd, 10 * NS_PER_S)) {
		snprintf(res->status, sizeof(res->status), "migrate refused");
		return bench_now_ns();
	}
	for (;;) {
		int64_t next = bench_now_ns() + QUERY_PERIOD_NS;

		if (qmp_call(s, "{\"execute\":\"query-migrate\"}",
			     (cancelled ? 60 : 30) * NS_PER_S)) {
			snprintf(res->status, sizeof(res->status), "qmp lost");
			return bench_now_ns();
		}
		json_str(s->qmp.reply, "status", res->status,
			 sizeof(res->status));
		/* so far: one cancelled at its timeout moved these bytes
		 * in this time (the throughput) */
		if (!strcmp(res->status, "active")) {
			json_num(s->qmp.reply, "total-time", &res->total_ms);
			json_num(s->qmp.reply, "transferred", &res->wire_bytes);
		}
		if (json_num(s->qmp.reply, "cpu-throttle-percentage", &pct) &&
		    pct > res->throttle_max)
			res->throttle_max = res->throttle_final = pct;
		if (qemu_finished(res->status)) {
			int64_t end = bench_now_ns();

			if (!strcmp(res->status, "completed"))
				qemu_wait_times(s);
			return end;
		}
		if (!cancelled && bench_now_ns() > deadline) {
			qmp_call(s, "{\"execute\":\"migrate_cancel\"}", 10 * NS_PER_S);
			cancelled = true;
		}
		for (int64_t left; (left = next - bench_now_ns()) > 0;)
			pump(s, (int)(left / NS_PER_MS) + 1);
	}
}

static void qemu_results(const char *q, struct run_result *res)
{
	json_num(q, "total-time", &res->total_ms);
	json_num(q, "setup-time", &res->setup_ms);
	json_num(q, "downtime", &res->downtime_ms);
	json_num(q, "transferred", &res->wire_bytes);
	json_num(q, "dirty-sync-count", &res->passes);
}

/* --- TLS ------------------------------------------------------------------- */

/*
 * The --tls options of one end, appended to argv at n; returns the new n.
 * kvmtrack: `run --incoming` (dst) and `migrate` (the source's side) take
 * --tls-creds DIR or --tls-psk FILE. QEMU: a tls-creds object named tls0
 * and the migration's tls-creds parameter set to it from the command line,
 * as migrate-set-parameters would (the destination listens at once). buf
 * holds the path or the object's options.
 */
static int tls_args(const struct session *s, enum vmm_id vmm, bool dst,
		    char **argv, int n, char *buf, size_t len)
{
	const struct bench_env *env = s->env;
	bool psk = env->tls == TLS_PSK;

	if (env->tls == TLS_NONE)
		return n;
	if (vmm == VMM_KVMTRACK) {
		snprintf(buf, len, "%s/%s", env->tls_dir,
			 psk ? "good.psk" : dst ? "dst" : "src");
		argv[n++] = psk ? "--tls-psk" : "--tls-creds";
		argv[n++] = buf;
		return n;
	}
	if (psk)
		snprintf(buf, len, "tls-creds-psk,id=tls0,dir=%s,endpoint=%s",
			 env->qemu_psk_dir,
			 dst ? "server" : "client,username=kvmtrack-src");
	else
		snprintf(buf, len, "tls-creds-x509,id=tls0,dir=%s/%s,endpoint=%s",
			 env->tls_dir, dst ? "dst" : "src",
			 dst ? "server,verify-peer=on" : "client");
	argv[n++] = "-object";
	argv[n++] = buf;
	argv[n++] = "-global";
	argv[n++] = "migration.tls-creds=tls0";
	return n;
}

/* The words after "migration channel from ADDR: " in the destination's
 * log from byte from on (kvmtrack logs them once the handshake is done),
 * or "". */
static void read_channel(const char *log_path, long from, char *out,
			 size_t len)
{
	char line[512], *p;
	FILE *f = fopen(log_path, "r");

	*out = '\0';
	if (f && fseek(f, from, SEEK_SET)) {
		fclose(f);
		f = NULL;
	}
	while (f && fgets(line, sizeof(line), f)) {
		p = strstr(line, "migration channel from ");
		p = p ? strstr(p, ": ") : NULL;
		if (p)
			snprintf(out, len, "%.*s", (int)strcspn(p + 2, "\n"), p + 2);
	}
	if (f)
		fclose(f);
}

/* --- kvmtrack migrate ------------------------------------------------------- */

static int64_t kvmtrack_migrate(struct session *s, struct run_result *res)
{
	static const char *const bd_keys[5] = { "stop", "final_pages", "state",
						"digest", "destination" };
	const char *bd;
	char bw[32], timeout[16], err_path[300], tls[300];
	char *argv[18 + MAX_MIGRATE_ARGS] = {
		(char *)s->env->kvmtrack, "migrate", "--control", s->src_sock,
		"--to", s->uri, "--json", "--downtime-ms", "300", "--timeout",
		timeout
	};
	int n = 11;

	snprintf(timeout, sizeof(timeout), "%u", s->sc->timeout_s);
	snprintf(bw, sizeof(bw), "%llu",
		 (unsigned long long)s->sc->max_bandwidth_bytes);
	if (s->sc->max_bandwidth_bytes) {
		argv[n++] = "--max-bandwidth";
		argv[n++] = bw;
	}
	if (s->sc->auto_converge)
		argv[n++] = "--auto-converge";
	n = tls_args(s, VMM_KVMTRACK, false, argv, n, tls, sizeof(tls));
	for (int i = 0; i < s->env->nr_migrate_argv; i++)
		argv[n++] = s->env->migrate_argv[i];
	argv[n] = NULL;
	snprintf(err_path, sizeof(err_path), "%s/migrate-%s-kvmtrack-ctl.err",
		 s->env->log_dir, s->sc->id);
	if (spawn(argv, err_path, &s->ctl_pid, &s->ctl.fd)) {
		snprintf(res->status, sizeof(res->status), "cannot spawn");
		return bench_now_ns();
	}
	while (!s->ctl.eof)
		pump(s, 100);
	wait_child(s->ctl_pid);
	s->ctl_pid = 0;
	if (!json_str(s->ctl.buf, "status", res->status, sizeof(res->status)))
		snprintf(res->status, sizeof(res->status), "no answer");
	json_num(s->ctl.buf, "total_ms", &res->total_ms);
	json_num(s->ctl.buf, "setup_ms", &res->setup_ms);
	if (json_num(s->ctl.buf, "downtime_us", &res->downtime_ms))
		res->downtime_ms /= 1000.0;
	json_num(s->ctl.buf, "transferred_bytes", &res->wire_bytes);
	json_num(s->ctl.buf, "passes", &res->passes);
	if (json_num(s->ctl.buf, "throttle_percent", &res->throttle_final))
		res->throttle_max = res->throttle_final;
	json_str(s->ctl.buf, "switchover", res->switchover,
		 sizeof(res->switchover));
	bd = strstr(s->ctl.buf, "\"downtime_breakdown_us\"");
	for (int i = 0; bd && i < 5; i++)
		json_num(bd, bd_keys[i], &res->bd_us[i]);
	return bench_now_ns();
}

/* --- starting, measuring, stopping ----------------------------------------- */

static void vmm_argv(const struct session *s, enum vmm_id vmm, bool dst,
		     char **argv, char *qmp_arg, size_t qmp_len, char *inc,
		     size_t inc_len, char *tls, size_t tls_len)
{
	const struct scenario *sc = s->sc;
	char *cpus = (char *)(sc->cpus ? sc->cpus : "1");
	int n = 0;

	if (vmm == VMM_KVMTRACK) {
		argv[n++] = (char *)s->env->kvmtrack;
		argv[n++] = "run";
		argv[n++] = "--serial";
		argv[n++] = "stdio";
		if (dst) {
			/* The machine's options, as QEMU's destination gets
			 * them: the VM is built before the source connects. */
			argv[n++] = "-m";
			argv[n++] = (char *)sc->mem;
			argv[n++] = "-c";
			argv[n++] = cpus;
			argv[n++] = "--incoming";
			argv[n++] = (char *)s->uri;
			n = tls_args(s, vmm, true, argv, n, tls, tls_len);
		} else {
			argv[n++] = "-m";
			argv[n++] = (char *)sc->mem;
			argv[n++] = "-c";
			argv[n++] = cpus;
			argv[n++] = "--control";
			argv[n++] = (char *)s->src_sock;
			if (sc->linux_guest) {
				argv[n++] = "--initrd";
				argv[n++] = (char *)s->env->linux_initrd;
			}
			argv[n++] = "--cmdline";
			argv[n++] = (char *)sc->cmdline;
			argv[n++] = (char *)(sc->linux_guest ? s->env->linux_kernel
							     : s->env->guest);
		}
		argv[n] = NULL;
		return;
	}
	argv[n++] = (char *)s->env->qemu;
	argv[n++] = "-enable-kvm";
	argv[n++] = "-m";
	argv[n++] = (char *)sc->mem;
	argv[n++] = "-smp";
	argv[n++] = cpus;
	argv[n++] = "-nographic";
	argv[n++] = "-nodefaults";
	argv[n++] = "-no-reboot";
	argv[n++] = "-serial";
	argv[n++] = "stdio";
	if (sc->linux_guest) {
		/* The host's CPU, as kvmtrack gives its guests. */
		argv[n++] = "-cpu";
		argv[n++] = "host";
		argv[n++] = "-kernel";
		argv[n++] = (char *)s->env->linux_kernel;
		argv[n++] = "-initrd";
		argv[n++] = (char *)s->env->linux_initrd;
	} else {
		argv[n++] = "-kernel";
		argv[n++] = (char *)s->env->guest;
	}
	argv[n++] = "-append";
	argv[n++] = (char *)sc->cmdline;
	if (dst) {
		snprintf(inc, inc_len, "%s", s->uri);
		argv[n++] = "-incoming";
		argv[n++] = inc;
	} else {
		snprintf(qmp_arg, qmp_len, "unix:%s,server=on,wait=off",
			 s->src_sock);
		argv[n++] = "-qmp";
		argv[n++] = qmp_arg;
	}
	n = tls_args(s, vmm, dst, argv, n, tls, tls_len);
	argv[n] = NULL;
}

/* True once something listens on TCP port (from /proc/net/tcp). */
static bool port_listening(int port)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/net/tcp", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned int lport, state;

		/* "sl: local_ip:port remote_ip:port st", LISTEN is 0x0A */
		found = sscanf(line, " %*u: %*x:%x %*x:%*x %x", &lport,
			       &state) == 2 &&
			(int)lport == port && state == 0x0a;
	}
	fclose(f);
	return found;
}

static int start_failed(const struct session *s, const char *why)
{
	fprintf(stderr, "bench-migrate: %s on port %d: %s\n", s->sc->id,
		s->env->port, why);
	return -1;
}

static int start_vmms(struct session *s, enum vmm_id vmm, unsigned int run_no)
{
	const char *name = vmm == VMM_KVMTRACK ? "kvmtrack" : "qemu";
	char *argv[32], qmp_arg[160], inc[80], tls[400], src_err[300];
	struct stat st;
	int64_t deadline;

	snprintf(src_err, sizeof(src_err), "%s/migrate-%s-%s-%u-src.err",
		 s->env->log_dir, s->sc->id, name, run_no);
	snprintf(s->dst_err, sizeof(s->dst_err), "%s/migrate-%s-%s-%u-dst.err",
		 s->env->log_dir, s->sc->id, name, run_no);
	s->dst_err_from = stat(s->dst_err, &st) ? 0 : st.st_size;
	/* Both `kvmtrack run`s: the source's TLS is in its run process. */
	if (s->env->tls_userspace)
		setenv("KVMTRACK_X_TLS_USERSPACE", "1", 1);
	else
		unsetenv("KVMTRACK_X_TLS_USERSPACE");
	vmm_argv(s, vmm, false, argv, qmp_arg, sizeof(qmp_arg), inc, sizeof(inc),
		 tls, sizeof(tls));
	if (spawn(argv, src_err, &s->src_pid, &s->src.fd))
		return -1;
	vmm_argv(s, vmm, true, argv, qmp_arg, sizeof(qmp_arg), inc, sizeof(inc),
		 tls, sizeof(tls));
	if (spawn(argv, s->dst_err, &s->dst_pid, &s->dst.fd))
		return -1;
	if (vmm == VMM_QEMU && qemu_prepare(s))
		return start_failed(s, "no answer on QMP");
	/* The source connects once: the destination must listen first. A
	 * probe connection would be taken for the migration, so look. */
	deadline = bench_now_ns() + BOOT_TIMEOUT_NS;
	while (!port_listening(s->env->port)) {
		if (bench_now_ns() > deadline || s->dst.eof)
			return start_failed(s, s->dst.eof ? "the destination ended"
							  : "the destination does not listen");
		pump(s, 20);
	}
	while (!s->src.started_ns) {
		if (bench_now_ns() > deadline || s->src.eof)
			return start_failed(s, s->src.eof ? "the source ended"
							  : "no workload start line from the source");
		pump(s, 50);
	}
	return 0;
}

/*
 * Guest pages written per second on the source between from and to, from
 * the first and last progress lines in that window; NAN with too few.
 */
static double guest_rate(const struct serial *ser, int64_t from, int64_t to)
{
	const struct progress_sample *a = NULL, *b = NULL;

	for (unsigned int i = 0; i < ser->nr_prog; i++) {
		const struct progress_sample *p = &ser->prog[i];

		if (p->t_ns < from || p->t_ns > to)
			continue;
		if (!a)
			a = p;
		b = p;
	}
	if (!a || b->t_ns - a->t_ns < 300 * NS_PER_MS)
		return NAN;
	return (double)(b->pages - a->pages) * NS_PER_S / (b->t_ns - a->t_ns);
}

/* The last progress sample on either side at or before t; NULL if none. */
static const struct progress_sample *sample_before(const struct session *s,
						   int64_t t)
{
	const struct serial *sides[2] = { &s->src, &s->dst };
	const struct progress_sample *best = NULL;

	for (int i = 0; i < 2; i++)
		for (unsigned int j = 0; j < sides[i]->nr_prog; j++) {
			const struct progress_sample *p = &sides[i]->prog[j];

			if (p->t_ns <= t && (!best || p->t_ns > best->t_ns))
				best = p;
		}
	return best;
}

/*
 * The guest's writes over the same window from the migration's start for
 * every VMM: the throttled passes, the downtime and the destination all
 * count, so a VMM cannot look gentler by stretching its migration.
 */
static void measure_window(const struct session *s, int64_t t_start,
			   struct run_result *res)
{
	int64_t w = (int64_t)s->sc->window_ms * NS_PER_MS;
	const struct progress_sample *a = sample_before(s, t_start);
	const struct progress_sample *b = sample_before(s, t_start + w);

	if (!w || !a || !b || b->t_ns - a->t_ns < w / 2 ||
	    !(res->rate_before > 0))
		return;
	res->slowdown_window_pct =
		100.0 * (1.0 - (double)(b->pages - a->pages) * NS_PER_S /
				       (res->rate_before * (b->t_ns - a->t_ns)));
}

static void measure_guest(const struct session *s, int64_t t_start,
			  int64_t t_end, struct run_result *res)
{
	const struct serial *src = &s->src;
	int64_t last = src->nr_prog ? src->prog[src->nr_prog - 1].t_ns : 0;

	if (last > t_end)
		last = t_end;
	res->rate_before = guest_rate(src, t_start - 1000 * NS_PER_MS, t_start);
	res->rate_during = guest_rate(src, t_start, t_end);
	res->rate_last_s = guest_rate(src, last - 1100 * NS_PER_MS, last);
	if (res->rate_before > 0 && res->rate_during >= 0) {
		res->slowdown_pct =
			100.0 * (1.0 - res->rate_during / res->rate_before);
		res->lost_pages = (res->rate_before - res->rate_during) *
				  (t_end - t_start) / NS_PER_S;
	}
	measure_window(s, t_start, res);
	res->max_hb_gap_ms = src->max_gap_ns / 1e6;
	res->last_src_hb = src->last_hb;
	res->first_dst_hb = s->dst.first_hb_ns ? s->dst.first_hb : -1;
	snprintf(res->first_dst_line, sizeof(res->first_dst_line), "%s",
		 s->dst.first_line);
	/*
	 * Any line counts, not only "hb N": the vCPU may stop in the middle
	 * of printing one, and its tail then arrives from the destination
	 * ("93" after "hb 9"); that tail is the destination's first line.
	 */
	if (res->completed && s->dst.first_line_ns && src->last_line_ns)
		res->observed_ms =
			(s->dst.first_line_ns - src->last_line_ns) / 1e6;
}

static void init_result(struct run_result *res)
{
	*res = (struct run_result){
		.warmup_ms = NAN,
		.total_ms = NAN, .setup_ms = NAN, .downtime_ms = NAN,
		.observed_ms = NAN, .wire_bytes = NAN, .passes = NAN,
		.throttle_final = NAN, .throttle_max = NAN, .rate_before = NAN,
		.rate_during = NAN, .rate_last_s = NAN, .slowdown_pct = NAN,
		.max_hb_gap_ms = NAN, .lost_pages = NAN,
		.slowdown_window_pct = NAN, .wire_mbs = NAN,
		.bd_us = { NAN, NAN, NAN, NAN, NAN },
		.last_src_hb = -1, .first_dst_hb = -1,
	};
	snprintf(res->status, sizeof(res->status), "not started");
}

static void end_session(struct session *s)
{
	stop_child(s->ctl_pid);
	stop_child(s->dst_pid);
	stop_child(s->src_pid);
	if (s->src.fd >= 0)
		close(s->src.fd);
	if (s->dst.fd >= 0)
		close(s->dst.fd);
	if (s->ctl.fd >= 0)
		close(s->ctl.fd);
	if (s->qmp.fd >= 0)
		close(s->qmp.fd);
	free(s->qmp.reply);
	if (s->src.trace)
		fclose(s->src.trace);
	unlink(s->src_sock);
}

/* The serial lines from the migration's start on, both sides, in
 * logs/migrate-<id>-<vmm>-<run>.lines: "ms-since-start src|dst line". */
static void open_trace(struct session *s, enum vmm_id vmm, unsigned int run_no,
		       int64_t t0)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/migrate-%s-%s-%u.lines",
		 s->env->log_dir, s->sc->id,
		 vmm == VMM_KVMTRACK ? "kvmtrack" : "qemu", run_no);
	f = fopen(path, "w");
	s->src.trace = s->dst.trace = f;
	s->src.trace_t0_ns = s->dst.trace_t0_ns = t0;
	s->src.name = "src";
	s->dst.name = "dst";
}

/*
 * At least warmup_ms, then until the guest writes at 90% of its paced rate
 * over the last 600 ms: a working set is resident when its first-touch
 * faults no longer hold the guest back, and how long that takes depends on
 * the VMM (its memory backing), so a fixed time would migrate different
 * guests. At most WARMUP_MAX_NS.
 */
static void warm_up(struct session *s)
{
	int64_t give_up = s->src.started_ns + WARMUP_MAX_NS;

	pump_for(s, s->sc->warmup_ms - (bench_now_ns() - s->src.started_ns) /
				       NS_PER_MS);
	while (s->sc->rate_pages && bench_now_ns() < give_up) {
		int64_t now = bench_now_ns();

		if (guest_rate(&s->src, now - 600 * NS_PER_MS, now) >=
		    0.9 * s->sc->rate_pages)
			return;
		pump_for(s, 100);
	}
}

bool migrate_run(const struct bench_env *env, const struct scenario *sc,
		 enum vmm_id vmm, unsigned int run_no, struct run_result *res)
{
	struct session *s = calloc(1, sizeof(*s));
	int64_t t_start, t_end;

	init_result(res);
	if (!s)
		return false;
	s->env = env;
	s->sc = sc;
	s->src.fd = s->dst.fd = s->ctl.fd = s->qmp.fd = -1;
	snprintf(s->src_sock, sizeof(s->src_sock), "/tmp/kt-bench-%d-src.sock",
		 getpid());
	snprintf(s->uri, sizeof(s->uri), "tcp:127.0.0.1:%d", env->port);
	unlink(s->src_sock);
	if (start_vmms(s, vmm, run_no)) {
		snprintf(res->status, sizeof(res->status), "start failed");
		end_session(s);
		free(s);
		return false;
	}
	warm_up(s);
	res->warmup_ms = (bench_now_ns() - s->src.started_ns) / 1e6;
	res->ran = true;
	t_start = s->src.gap_from_ns = bench_now_ns();
	open_trace(s, vmm, run_no, t_start);
	if (vmm == VMM_KVMTRACK) {
		t_end = kvmtrack_migrate(s, res);
	} else {
		res->throttle_max = res->throttle_final = 0;
		t_end = qemu_migrate(s, res);
		if (!strcmp(res->status, "completed"))
			qemu_results(s->qmp.reply, res);
	}
	if (!strcmp(res->status, "completed")) {
		int64_t deadline = bench_now_ns() + RESUME_TIMEOUT_NS;

		while (!s->dst.first_hb_ns && !s->dst.eof &&
		       bench_now_ns() < deadline)
			pump(s, 50);
		res->completed = s->dst.first_hb_ns != 0;
		pump_for(s, 100); /* the source's last words, if any */
		if (!res->completed)
			snprintf(res->status, sizeof(res->status),
				 "no heartbeat there");
		else if (sc->window_ms)
			pump_for(s, (t_start - bench_now_ns()) / NS_PER_MS +
					    sc->window_ms + 200);
	}
	measure_guest(s, t_start, t_end, res);
	if (res->wire_bytes > 0 && res->total_ms > 0)
		res->wire_mbs = res->wire_bytes / 1e3 / res->total_ms;
	end_session(s);
	if (vmm == VMM_KVMTRACK)
		read_channel(s->dst_err, s->dst_err_from, res->channel,
			     sizeof(res->channel));
	free(s);
	return true;
}
