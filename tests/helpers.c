// SPDX-License-Identifier: MIT
/* Process helpers for KVM and end-to-end tests (see helpers.h). */
#include "tests/helpers.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/json/json.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, used = 0, got;

	if (!f)
		return NULL;
	do {
		if (cap - used < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap + 1);
		}
		got = fread(buf + used, 1, cap - used, f);
		used += got;
	} while (got > 0);
	fclose(f);
	buf[used] = '\0';
	if (len)
		*len = used;
	return buf;
}

int bg_start(const char *const argv[], struct bg_proc *p)
{
	int out_fd, err_fd;

	snprintf(p->out_path, sizeof(p->out_path), "/tmp/kt-out-XXXXXX");
	snprintf(p->err_path, sizeof(p->err_path), "/tmp/kt-err-XXXXXX");
	out_fd = mkstemp(p->out_path);
	err_fd = mkstemp(p->err_path);
	if (out_fd < 0 || err_fd < 0)
		return -errno;
	p->pid = fork();
	if (p->pid < 0)
		return -errno;
	if (p->pid == 0) {
		int null_fd = open("/dev/null", O_RDONLY);

		dup2(null_fd, 0);
		dup2(out_fd, 1);
		dup2(err_fd, 2);
		execv(argv[0], (char *const *)argv);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(out_fd);
	close(err_fd);
	return 0;
}

int bg_wait(struct bg_proc *p, int timeout_s, struct proc_result *r)
{
	long deadline = now_ms() + timeout_s * 1000L;
	int wstatus = 0;

	memset(r, 0, sizeof(*r));
	while (waitpid(p->pid, &wstatus, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			r->timed_out = true;
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &wstatus, 0);
			break;
		}
		usleep(10000);
	}
	r->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus)
				       : 128 + WTERMSIG(wstatus);
	r->out = read_file(p->out_path, NULL);
	r->err = read_file(p->err_path, NULL);
	unlink(p->out_path);
	unlink(p->err_path);
	return 0;
}

bool bg_wait_output(struct bg_proc *p, const char *needle, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	while (now_ms() < deadline) {
		char *out = read_file(p->out_path, NULL);
		bool found = out && strstr(out, needle);

		free(out);
		if (found)
			return true;
		usleep(20000);
	}
	return false;
}

int run_cmd(const char *const argv[], int timeout_s, struct proc_result *r)
{
	struct bg_proc p;
	int ret = bg_start(argv, &p);

	if (ret < 0)
		return ret;
	return bg_wait(&p, timeout_s, r);
}

void proc_result_free(struct proc_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

bool wait_for_socket(const char *path, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	while (now_ms() < deadline) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		int ok = connect(fd, (struct sockaddr *)&addr, sizeof(addr));

		close(fd);
		if (ok == 0)
			return true;
		usleep(20000);
	}
	return false;
}

int write_temp_file(const void *data, size_t len, char *path_out,
		    size_t path_len)
{
	int fd;

	snprintf(path_out, path_len, "/tmp/kt-img-XXXXXX");
	fd = mkstemp(path_out);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

int count_substr(const char *haystack, const char *needle)
{
	int n = 0;

	for (const char *p = haystack; p && (p = strstr(p, needle));
	     p += strlen(needle))
		n++;
	return n;
}

bool kvm_resets_vcpu_on_shutdown(void)
{
	return access("/sys/module/kvm_amd", F_OK) == 0;
}

struct proc_result run_dirtyrate(const char *sock, const char *const *args)
{
	const char *argv[24] = { KVMTRACK_BIN, "dirtyrate", "--control", sock };
	struct proc_result r;
	int argc = 4;

	for (; *args && argc < 23; args++)
		argv[argc++] = *args;
	argv[argc] = NULL;
	cr_assert_eq(run_cmd(argv, 60, &r), 0);
	cr_assert(!r.timed_out, "dirtyrate hung: %s", r.err);
	return r;
}

struct json_value *dirtyrate_json(const char *sock, const char *const *args)
{
	struct proc_result r = run_dirtyrate(sock, args);
	struct json_value *v;
	char err[256];

	cr_assert_eq(r.status, 0, "dirtyrate failed: %s", r.err);
	cr_assert_eq(json_parse(r.out, strlen(r.out), &v, err, sizeof(err)), 0,
		     "%s: %s", err, r.out);
	proc_result_free(&r);
	return v;
}

double json_num(const struct json_value *obj, const char *key)
{
	const struct json_value *v = json_get(obj, key);

	cr_assert(v && v->type == JSON_NUMBER, "no number '%s'", key);
	return v->number;
}
