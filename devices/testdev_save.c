// SPDX-License-Identifier: MIT
/*
 * The test device's migration state (testdev_save.h, the registry hooks
 * testdev_save and testdev_load): the guest's HELLO and RESULT, STATUS,
 * the counters, every vCPU's totals and latest REPORT, and the commands
 * still waiting for a POLL. The report history (up to TESTDEV_REPORT_RING per vCPU) is dropped:
 * after a load each vCPU's history holds only its latest report, which is
 * all the guest protocol and the progress checks depend on. The per-kind
 * "already logged" flags are the host's log throttling and stay behind.
 */
#include "devices/testdev_save.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devices/testdev_model.h"
#include "lib/wire.h"

static void put_hdr(struct wbuf *w, const struct testdev_msg_hdr *h)
{
	wbuf_put_u32(w, h->type);
	wbuf_put_u32(w, h->len_bytes);
}

static void get_hdr(struct rbuf *r, struct testdev_msg_hdr *h)
{
	h->type = rbuf_get_u32(r);
	h->len_bytes = rbuf_get_u32(r);
}

static void put_totals(struct wbuf *w, const struct testdev_totals *t)
{
	wbuf_put_u64(w, t->reports);
	wbuf_put_u64(w, t->interval_pages_written);
	wbuf_put_u64(w, t->interval_distinct_pages);
}

static void get_totals(struct rbuf *r, struct testdev_totals *t)
{
	t->reports = rbuf_get_u64(r);
	t->interval_pages_written = rbuf_get_u64(r);
	t->interval_distinct_pages = rbuf_get_u64(r);
}

static void put_report(struct wbuf *w, const struct testdev_report *rep)
{
	put_hdr(w, &rep->hdr);
	wbuf_put_u32(w, rep->vcpu);
	wbuf_put_u32(w, rep->seq);
	wbuf_put_u64(w, rep->tsc_start);
	wbuf_put_u64(w, rep->tsc_end);
	wbuf_put_u64(w, rep->interval_pages_written);
	wbuf_put_u64(w, rep->interval_distinct_pages);
	wbuf_put_u64(w, rep->total_pages_written);
	wbuf_put_u64(w, rep->generation);
}

static void get_report(struct rbuf *r, struct testdev_report *rep)
{
	get_hdr(r, &rep->hdr);
	rep->vcpu = rbuf_get_u32(r);
	rep->seq = rbuf_get_u32(r);
	rep->tsc_start = rbuf_get_u64(r);
	rep->tsc_end = rbuf_get_u64(r);
	rep->interval_pages_written = rbuf_get_u64(r);
	rep->interval_distinct_pages = rbuf_get_u64(r);
	rep->total_pages_written = rbuf_get_u64(r);
	rep->generation = rbuf_get_u64(r);
}

static void put_hello_result(struct wbuf *w, const struct testdev *td)
{
	wbuf_put_u8(w, td->have_hello);
	put_hdr(w, &td->hello.hdr);
	wbuf_put_u32(w, td->hello.nr_cpus);
	wbuf_put_u32(w, td->hello.workload);
	wbuf_put_u64(w, td->hello.wss_bytes);
	wbuf_put_u64(w, td->hello.wss_base_gpa);
	wbuf_put_u8(w, td->have_result);
	put_hdr(w, &td->result.hdr);
	wbuf_put_u32(w, td->result.status);
	wbuf_put_u32(w, td->result.reserved);
	wbuf_put_u64(w, td->result.pages_checked);
	wbuf_put_u64(w, td->result.pages_bad);
	wbuf_put_u64(w, td->result.first_bad_gpa);
}

static void get_hello_result(struct rbuf *r, struct testdev *td,
			     uint8_t *have_hello, uint8_t *have_result)
{
	*have_hello = rbuf_get_u8(r);
	get_hdr(r, &td->hello.hdr);
	td->hello.nr_cpus = rbuf_get_u32(r);
	td->hello.workload = rbuf_get_u32(r);
	td->hello.wss_bytes = rbuf_get_u64(r);
	td->hello.wss_base_gpa = rbuf_get_u64(r);
	*have_result = rbuf_get_u8(r);
	get_hdr(r, &td->result.hdr);
	td->result.status = rbuf_get_u32(r);
	td->result.reserved = rbuf_get_u32(r);
	td->result.pages_checked = rbuf_get_u64(r);
	td->result.pages_bad = rbuf_get_u64(r);
	td->result.first_bad_gpa = rbuf_get_u64(r);
}

static void put_vcpus(struct wbuf *w, const struct testdev *td)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < TESTDEV_MAX_VCPUS; i++)
		n += (td->vcpus_used >> i & 1) && td->vcpus[i].count != 0;
	wbuf_put_u32(w, n);
	for (uint32_t i = 0; i < TESTDEV_MAX_VCPUS; i++) {
		const struct testdev_vcpu *v = &td->vcpus[i];

		if (!(td->vcpus_used >> i & 1) || !v->count)
			continue;
		wbuf_put_u32(w, i);
		put_totals(w, &v->totals);
		put_report(w, testdev_latest_of(v));
	}
}

int testdev_save(void *state, struct wbuf *w)
{
	struct testdev *td = state;

	pthread_mutex_lock(&td->lock);
	wbuf_put_u32(w, (uint32_t)td->status);
	wbuf_put_u64(w, td->messages);
	wbuf_put_u64(w, td->fill_bytes);
	put_hello_result(w, td);
	put_totals(w, &td->totals);
	put_vcpus(w, td);
	wbuf_put_u32(w, td->cmd_count);
	for (unsigned int i = 0; i < td->cmd_count; i++) {
		const struct testdev_cmd_slot *c =
			&td->cmds[(td->cmd_head + i) % TESTDEV_CMD_QUEUE];

		wbuf_put_u32(w, c->cmd);
		wbuf_put_u64(w, c->arg);
	}
	wbuf_put_u32(w, TESTDEV_ERR_NR_KINDS);
	for (int k = 0; k < TESTDEV_ERR_NR_KINDS; k++)
		wbuf_put_u64(w, td->errors[k]);
	pthread_mutex_unlock(&td->lock);
	return w->err;
}

/* Reports and totals of the vCPUs that sent any; td->lock held. */
static int get_vcpus(struct rbuf *r, struct testdev *td, char *err,
		     size_t err_len)
{
	uint32_t n = rbuf_get_u32(r);
	int64_t prev = -1;

	if (n > TESTDEV_MAX_VCPUS) {
		snprintf(err, err_len, "testdev: %u vCPUs with reports, at most %u",
			 n, TESTDEV_MAX_VCPUS);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < n && !r->err; i++) {
		uint32_t idx = rbuf_get_u32(r);
		struct testdev_vcpu *v;

		if (!r->err && (idx >= TESTDEV_MAX_VCPUS || (int64_t)idx <= prev)) {
			snprintf(err, err_len,
				 "testdev: vCPU index %u out of range or order",
				 idx);
			return -EINVAL;
		}
		prev = idx;
		idx = idx < TESTDEV_MAX_VCPUS ? idx : 0;
		v = &td->vcpus[idx];
		td->vcpus_used |= 1u << idx;
		get_totals(r, &v->totals);
		get_report(r, &v->ring[0]);
		if (!r->err && v->ring[0].vcpu != idx) {
			snprintf(err, err_len,
				 "testdev: report of vCPU %u filed under %u",
				 v->ring[0].vcpu, idx);
			return -EINVAL;
		}
		/* History dropped: the latest report is the only one. */
		v->next = 1;
		v->count = 1;
	}
	return 0;
}

static int get_errors(struct rbuf *r, struct testdev *td, char *err,
		      size_t err_len)
{
	uint32_t kinds = rbuf_get_u32(r);

	if (kinds > TESTDEV_ERR_NR_KINDS) {
		snprintf(err, err_len, "testdev: %u error kinds, at most %u",
			 kinds, TESTDEV_ERR_NR_KINDS);
		return -EINVAL;
	}
	for (uint32_t k = 0; k < kinds; k++)
		td->errors[k] = rbuf_get_u64(r);
	return 0;
}

/* Everything but the command queue; td->lock held, td freshly reset. */
static int load_locked(struct rbuf *r, struct testdev *td, char *err,
		       size_t err_len)
{
	uint8_t have_hello, have_result;
	int ret;

	td->status = (int32_t)rbuf_get_u32(r);
	td->messages = rbuf_get_u64(r);
	td->fill_bytes = rbuf_get_u64(r);
	get_hello_result(r, td, &have_hello, &have_result);
	if (!r->err && (have_hello > 1 || have_result > 1)) {
		snprintf(err, err_len, "testdev: impossible have_%s",
			 have_hello > 1 ? "hello" : "result");
		return -EINVAL;
	}
	td->have_hello = have_hello;
	td->have_result = have_result;
	get_totals(r, &td->totals);
	ret = get_vcpus(r, td, err, err_len);
	return ret;
}

/* The fresh device's reports, totals and queue, all cleared. Only the
 * vCPUs ever written: the others were never touched (calloc). */
static void reset_locked(struct testdev *td)
{
	for (uint32_t i = 0; i < TESTDEV_MAX_VCPUS; i++)
		if (td->vcpus_used >> i & 1)
			memset(&td->vcpus[i], 0, sizeof(td->vcpus[i]));
	td->vcpus_used = 0;
	td->cmd_head = 0;
	td->cmd_count = 0;
	memset(td->errors, 0, sizeof(td->errors));
}

/* Queued commands, through the same check as any other caller's. */
static int load_cmds(struct rbuf *r, struct testdev *td, char *err,
		     size_t err_len)
{
	uint32_t n = rbuf_get_u32(r);

	if (n > TESTDEV_CMD_QUEUE) {
		snprintf(err, err_len, "testdev: %u queued commands, at most %u",
			 n, TESTDEV_CMD_QUEUE);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < n && !r->err; i++) {
		uint32_t cmd = rbuf_get_u32(r);
		uint64_t arg = rbuf_get_u64(r);

		if (!r->err && testdev_queue_cmd(td, cmd, arg) < 0) {
			snprintf(err, err_len,
				 "testdev: queued command %u is unknown", cmd);
			return -EINVAL;
		}
	}
	return 0;
}

int testdev_load(void *state, struct rbuf *r, uint32_t version, char *err,
		 size_t err_len)
{
	struct testdev *td = state;
	int ret;

	if (version != TESTDEV_STATE_VERSION) {
		snprintf(err, err_len, "testdev: state version %u, can read %u",
			 version, TESTDEV_STATE_VERSION);
		return -EINVAL;
	}
	pthread_mutex_lock(&td->lock);
	reset_locked(td);
	ret = load_locked(r, td, err, err_len);
	pthread_mutex_unlock(&td->lock);
	ret = ret ?: load_cmds(r, td, err, err_len);
	if (!ret) {
		pthread_mutex_lock(&td->lock);
		ret = get_errors(r, td, err, err_len);
		pthread_mutex_unlock(&td->lock);
	}
	if (!ret && r->err) {
		snprintf(err, err_len, "testdev: state truncated");
		ret = -EBADMSG;
	}
	return ret;
}
