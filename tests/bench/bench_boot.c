// SPDX-License-Identifier: MIT
/*
 * Boot-to-banner benchmark: the time from fork() of a VMM to the moment
 * the guest's first serial line ("kvmtrack-guest ...") has arrived on the
 * child's stdout pipe, for kvmtrack and for QEMU booting the same ELF.
 *
 * Runs alternate between the two VMMs (K Q Q K K Q ...) so that slow
 * drift of a shared, noisy machine hits both alike; the report gives
 * median, min and max per VMM and the ratio of the medians.
 *
 * The pipe is read directly with poll(); timestamps are CLOCK_MONOTONIC.
 * Two instants are kept per run: when the bytes "kvmtrack-guest " first
 * arrive (the banner starts) and when the banner line's '\n' arrives (the
 * first serial line is complete). The line is the headline number.
 *
 * With --linux KERNEL --initrd FILE, both boot that Linux kernel and
 * initramfs (512 MiB, "console=ttyS0"; QEMU as -M microvm -cpu host) and
 * the line waited for is the tests' initramfs's first userspace line,
 * "kt-init: userspace" (tests/linux/initramfs/init.sh).
 *
 * Output: a JSON file (--json) and Markdown table rows on stdout, which
 * tests/bench/run.sh gathers into bench-results/summary.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BANNER "kvmtrack-guest "
#define LINUX_BANNER "kt-init: userspace"
#define MAX_RUNS 100
#define OUT_BUF_BYTES (256 * 1024)
#define STOP_GRACE_NS (3 * 1000000000ll)

enum vmm_id { VMM_KVMTRACK, VMM_QEMU, NR_VMMS };

struct vmm_result {
	const char *name;
	char *argv[24];
	int64_t prefix_ns[MAX_RUNS];
	int64_t line_ns[MAX_RUNS];
	unsigned int nr_ok;
	unsigned int nr_failed;
};

struct stats {
	double median_ms, min_ms, max_ms;
};

struct options {
	unsigned int runs;
	int timeout_s;
	const char *kvmtrack;
	const char *qemu;
	const char *guest;
	const char *cmdline;
	const char *banner;
	const char *linux_kernel; /* NULL: the bundled guest */
	const char *initrd;
	const char *json_path;
	bool verbose;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/*
 * Starts argv with stdout on a pipe, stdin and stderr on /dev/null (QEMU
 * warns on stderr; stderr is not the serial port). *t0_ns is taken right
 * before fork().
 */
static int spawn(char **argv, pid_t *pid, int *out_fd, int64_t *t0_ns)
{
	int fds[2], err;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		err = -errno;
		fprintf(stderr, "bench-boot: pipe: %s\n", strerror(-err));
		return err;
	}
	*t0_ns = now_ns();
	*pid = fork();
	if (*pid < 0) {
		err = -errno;
		fprintf(stderr, "bench-boot: fork: %s\n", strerror(-err));
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (*pid == 0) {
		int null_fd = open("/dev/null", O_RDWR);

		/* Own process group: stopping it reaches any helper too. */
		setpgid(0, 0);
		dup2(null_fd, STDIN_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		dup2(null_fd, STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	setpgid(*pid, *pid); /* also here: no race with stop_child() */
	close(fds[1]);
	*out_fd = fds[0];
	return 0;
}

/*
 * Reads the child's stdout until the banner line is complete. QEMU's
 * SeaBIOS prints before the guest and with no newline, so the banner is
 * searched anywhere in the stream, not only at a line start.
 */
static int wait_banner(int fd, const char *want, int64_t deadline_ns,
		       int64_t *prefix_at_ns, int64_t *line_at_ns, bool verbose)
{
	static char buf[OUT_BUF_BYTES];
	size_t len = 0;
	const char *banner = NULL, *eol;

	*prefix_at_ns = 0;
	while (len < OUT_BUF_BYTES) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int64_t left_ms = (deadline_ns - now_ns()) / 1000000;
		ssize_t n;
		int64_t t;
		int ret;

		if (left_ms <= 0)
			return -ETIMEDOUT;
		ret = poll(&pfd, 1, (int)left_ms);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			return -errno;
		if (ret == 0)
			return -ETIMEDOUT;
		n = read(fd, buf + len, OUT_BUF_BYTES - len);
		t = now_ns();
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE; /* the VMM exited before the banner */
		len += n;
		/* memmem/memchr: terminal escapes may hold any byte, even NUL.
		 */
		if (!banner) {
			banner = memmem(buf, len, want, strlen(want));
			if (banner)
				*prefix_at_ns = t;
		}
		eol = banner ? memchr(banner, '\n', buf + len - banner) : NULL;
		if (eol) {
			*line_at_ns = t;
			if (verbose)
				fprintf(stderr, "bench-boot:   %.*s",
					(int)(eol - banner + 1), banner);
			return 0;
		}
	}
	return -ENOBUFS;
}

/* SIGTERM the child's group, SIGKILL it if it lingers, and reap it. */
static void stop_child(pid_t pid)
{
	int64_t deadline_ns = now_ns() + STOP_GRACE_NS;
	int status;

	kill(-pid, SIGTERM);
	kill(pid, SIGTERM);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_ns() > deadline_ns) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return;
		}
		usleep(2000);
	}
}

static void run_once(struct vmm_result *vmm, const struct options *opt)
{
	int64_t t0_ns = 0, prefix_ns = 0, line_ns = 0;
	pid_t pid = -1;
	int fd = -1, ret;

	ret = spawn(vmm->argv, &pid, &fd, &t0_ns);
	if (ret) {
		vmm->nr_failed++;
		return;
	}
	ret = wait_banner(fd, opt->banner,
			  t0_ns + opt->timeout_s * 1000000000ll, &prefix_ns,
			  &line_ns, opt->verbose);
	stop_child(pid);
	close(fd);
	if (ret) {
		fprintf(stderr, "bench-boot: %s: no banner: %s\n", vmm->name,
			strerror(-ret));
		vmm->nr_failed++;
		return;
	}
	vmm->prefix_ns[vmm->nr_ok] = prefix_ns - t0_ns;
	vmm->line_ns[vmm->nr_ok] = line_ns - t0_ns;
	if (opt->verbose)
		fprintf(stderr, "bench-boot: %-8s %9.2f ms\n", vmm->name,
			(line_ns - t0_ns) / 1e6);
	vmm->nr_ok++;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static struct stats compute_stats(const int64_t *samples_ns, unsigned int n)
{
	int64_t sorted[MAX_RUNS];
	struct stats s = {0};

	if (!n)
		return s;
	memcpy(sorted, samples_ns, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_i64);
	s.min_ms = sorted[0] / 1e6;
	s.max_ms = sorted[n - 1] / 1e6;
	s.median_ms = (n & 1) ? sorted[n / 2] / 1e6
			      : (sorted[n / 2 - 1] + sorted[n / 2]) / 2e6;
	return s;
}

static void json_samples(FILE *f, const int64_t *samples_ns, unsigned int n)
{
	unsigned int i;

	fputc('[', f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%.3f", i ? ", " : "", samples_ns[i] / 1e6);
	fputc(']', f);
}

static void json_vmm(FILE *f, const struct vmm_result *vmm, bool last)
{
	struct stats line = compute_stats(vmm->line_ns, vmm->nr_ok);
	struct stats prefix = compute_stats(vmm->prefix_ns, vmm->nr_ok);
	char *const *arg;

	fprintf(f, "    \"%s\": {\n      \"command\": \"", vmm->name);
	for (arg = vmm->argv; *arg; arg++)
		fprintf(f, "%s%s", arg == vmm->argv ? "" : " ", *arg);
	fprintf(f, "\",\n      \"ok_runs\": %u,\n      \"failed_runs\": %u,\n",
		vmm->nr_ok, vmm->nr_failed);
	fprintf(f,
		"      \"line_ms\": {\"median\": %.3f, \"min\": %.3f, \"max\": "
		"%.3f, \"samples\": ",
		line.median_ms, line.min_ms, line.max_ms);
	json_samples(f, vmm->line_ns, vmm->nr_ok);
	fprintf(f,
		"},\n      \"banner_start_ms\": {\"median\": %.3f, \"min\": "
		"%.3f, \"max\": %.3f, \"samples\": ",
		prefix.median_ms, prefix.min_ms, prefix.max_ms);
	json_samples(f, vmm->prefix_ns, vmm->nr_ok);
	fprintf(f, "}\n    }%s\n", last ? "" : ",");
}

/* Median of QEMU over median of kvmtrack; 0 if either has no sample. */
static double ratio(const struct vmm_result *vmms)
{
	struct stats k =
	    compute_stats(vmms[VMM_KVMTRACK].line_ns, vmms[VMM_KVMTRACK].nr_ok);
	struct stats q =
	    compute_stats(vmms[VMM_QEMU].line_ns, vmms[VMM_QEMU].nr_ok);

	return k.median_ms > 0 && q.median_ms > 0 ? q.median_ms / k.median_ms
						  : 0;
}

static int write_json(const char *path, const struct vmm_result *vmms,
		      const struct options *opt)
{
	FILE *f = fopen(path, "w");
	int i;

	if (!f) {
		fprintf(stderr, "bench-boot: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "{\n  \"benchmark\": \"boot_to_banner\",\n");
	fprintf(f, "  \"description\": \"fork() of the VMM to the guest's "
		   "first serial line on its stdout pipe\",\n");
	fprintf(f, "  \"guest\": \"%s\",\n  \"guest_cmdline\": \"%s\",\n",
		opt->linux_kernel ? opt->linux_kernel : opt->guest,
		opt->cmdline);
	fprintf(f,
		"  \"banner\": \"%s\",\n  \"runs\": %u,\n  \"order\": "
		"\"alternating KQ QK KQ ...\",\n",
		opt->banner, opt->runs);
	fprintf(f, "  \"vmms\": {\n");
	for (i = 0; i < NR_VMMS; i++)
		json_vmm(f, &vmms[i], i == NR_VMMS - 1);
	fprintf(f, "  },\n  \"ratio_qemu_over_kvmtrack\": %.2f\n}\n",
		ratio(vmms));
	return fclose(f) ? -1 : 0;
}

/* Markdown rows: | benchmark | subject | median | min | max | unit | note | */
static void print_rows(const struct vmm_result *vmms,
		       const struct options *opt)
{
	const char *what = opt->linux_kernel
				   ? "Linux boot to first userspace line"
				   : "boot to first serial line";
	int i;

	for (i = 0; i < NR_VMMS; i++) {
		const struct vmm_result *v = &vmms[i];
		struct stats s = compute_stats(v->line_ns, v->nr_ok);

		printf("| %s | %s | %.1f | %.1f | %.1f "
		       "| ms | %u runs%s |\n",
		       what, v->name, s.median_ms, s.min_ms, s.max_ms, v->nr_ok,
		       v->nr_failed ? ", some failed" : "");
	}
	printf("| %s | QEMU / kvmtrack | %.1fx | | | "
	       "ratio of medians | alternating runs |\n",
	       what, ratio(vmms));
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: bench-boot [options]\n"
	    "  -n, --runs N        runs per VMM (default 5, at most %d)\n"
	    "  -t, --timeout S     seconds to wait for a banner (default 30)\n"
	    "      --kvmtrack PATH (default ./kvmtrack)\n"
	    "      --qemu PATH     (default qemu-system-x86_64)\n"
	    "      --guest PATH    (default guest/kvmtrack-guest.elf)\n"
	    "      --linux KERNEL  boot this Linux kernel instead, with\n"
	    "      --initrd FILE   the tests' initramfs, to its first\n"
	    "                      userspace line\n"
	    "      --json PATH     write the results as JSON\n"
	    "  -v, --verbose       log each run on stderr\n",
	    MAX_RUNS);
}

static int parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
	    {"runs", required_argument, NULL, 'n'},
	    {"timeout", required_argument, NULL, 't'},
	    {"kvmtrack", required_argument, NULL, 'k'},
	    {"qemu", required_argument, NULL, 'q'},
	    {"guest", required_argument, NULL, 'g'},
	    {"linux", required_argument, NULL, 'L'},
	    {"initrd", required_argument, NULL, 'I'},
	    {"json", required_argument, NULL, 'j'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "n:t:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			opt->runs = strtoul(optarg, NULL, 0);
			break;
		case 't':
			opt->timeout_s = atoi(optarg);
			break;
		case 'k':
			opt->kvmtrack = optarg;
			break;
		case 'q':
			opt->qemu = optarg;
			break;
		case 'g':
			opt->guest = optarg;
			break;
		case 'j':
			opt->json_path = optarg;
			break;
		case 'L':
			opt->linux_kernel = optarg;
			break;
		case 'I':
			opt->initrd = optarg;
			break;
		case 'v':
			opt->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (opt->runs < 1 || opt->runs > MAX_RUNS || opt->timeout_s < 1 ||
	    !opt->linux_kernel != !opt->initrd) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static void set_args(struct vmm_result *vmm, char *const *args)
{
	unsigned int n = 0;

	while (args[n] && n + 1 < sizeof(vmm->argv) / sizeof(vmm->argv[0])) {
		vmm->argv[n] = args[n];
		n++;
	}
	vmm->argv[n] = NULL;
}

/* The two command lines: the bundled guest, or a Linux kernel. */
static void set_argv(struct vmm_result *vmms, struct options *opt)
{
	if (!opt->linux_kernel) {
		set_args(&vmms[VMM_KVMTRACK], (char *[]){
			(char *)opt->kvmtrack, "run", "-m", "256M", "--cmdline",
			(char *)opt->cmdline, (char *)opt->guest, NULL});
		set_args(&vmms[VMM_QEMU], (char *[]){
			(char *)opt->qemu, "-enable-kvm", "-m", "256",
			"-nographic", "-nodefaults", "-no-reboot", "-serial",
			"stdio", "-kernel", (char *)opt->guest, "-append",
			(char *)opt->cmdline, NULL});
		return;
	}
	opt->banner = LINUX_BANNER;
	opt->cmdline = "console=ttyS0";
	set_args(&vmms[VMM_KVMTRACK], (char *[]){
		(char *)opt->kvmtrack, "run", "-m", "512M", "--initrd",
		(char *)opt->initrd, "--cmdline", (char *)opt->cmdline,
		(char *)opt->linux_kernel, NULL});
	/* QEMU's fastest-booting machine, with the host's CPU as ours. */
	set_args(&vmms[VMM_QEMU], (char *[]){
		(char *)opt->qemu, "-enable-kvm", "-M", "microvm", "-cpu",
		"host", "-m", "512", "-nographic", "-nodefaults",
		"-no-reboot", "-serial", "stdio", "-kernel",
		(char *)opt->linux_kernel, "-initrd", (char *)opt->initrd,
		"-append", (char *)opt->cmdline, NULL});
}

int main(int argc, char **argv)
{
	struct options opt = {
	    .runs = 5,
	    .timeout_s = 30,
	    .kvmtrack = "./kvmtrack",
	    .qemu = "qemu-system-x86_64",
	    .guest = "guest/kvmtrack-guest.elf",
	    /* The idle workload runs until stopped: SIGTERM ends it. */
	    .cmdline = "workload=idle duration=0",
	    .banner = BANNER,
	};
	struct vmm_result vmms[NR_VMMS] = {
	    [VMM_KVMTRACK] = {.name = "kvmtrack"},
	    [VMM_QEMU] = {.name = "qemu"},
	};
	unsigned int i;

	if (parse_options(argc, argv, &opt))
		return 2;
	set_argv(vmms, &opt);
	for (i = 0; i < opt.runs; i++) {
		/* K Q, Q K, K Q ...: neither always goes first. */
		enum vmm_id first = (i & 1) ? VMM_QEMU : VMM_KVMTRACK;

		run_once(&vmms[first], &opt);
		run_once(&vmms[!first], &opt);
	}
	if (opt.json_path && write_json(opt.json_path, vmms, &opt))
		return 1;
	print_rows(vmms, &opt);
	return vmms[VMM_KVMTRACK].nr_ok && vmms[VMM_QEMU].nr_ok ? 0 : 1;
}
