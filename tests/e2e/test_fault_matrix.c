// SPDX-License-Identifier: MIT
/*
 * The fault matrix: one migration attempt of a writing guest per phase
 * and fault (fault_proxy.h), between real kvmtrack processes over TCP,
 * printed as a table of what happened, a row per test (one guest each, so
 * that each test stays within the suite's 300 s). In every cell:
 * - the guest goes on: at the source, which ran on or resumed by itself;
 *   or, from the digest on, where the source cannot know whether the
 *   destination runs it and stays paused, at the destination when it
 *   does, else at the source once the operator (here, the test, which
 *   knows the destination has no guest) resumes it;
 * - a destination that lives discarded the attempt and keeps listening;
 * - a retry moves the guest, verified, to a destination: the next cell
 *   starts from there.
 * At the end of a row the guest, after its 5 attempts and as many moves,
 * checks every page it wrote.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/e2e/fault_proxy.h"
#include "tests/e2e/migrate_helpers.h"

#define WRITER "workload=random wss=16M rate=5000 fill=page vcpus=2 heartbeat=20 verify=1"
/* Four passes whatever the rate, so that "a later pass" and stop-and-copy
 * are always there to be reached; --timeout ends what a stall holds. */
static const char *const opts[] = { "--downtime-ms", "5", "--max-passes",
				    "4", "--timeout", "20", NULL };

enum outcome { KEPT, RESUMED, MOVED, COMPLETED };
static const char *const outcome_names[] = { "kept", "paused, resumed",
					     "moved", "completed" };

/* Attempts at a cell whose phase the migration did not reach: a pass, or
 * the stop-and-copy, may hold no page of its kind when the guest got no
 * CPU in it; the guest moved, and the cell is tried again from there. */
#define CELL_TRIES 3

struct matrix {
	struct mig_host hosts[(CELL_TRIES + 1) * FP_NR_FAULTS + 1];
	int nr_hosts;
	struct mig_host *cur; /* where the guest runs */
	enum outcome out[FP_NR_FAULTS];
};

/*
 * What each cell must give. Before stop-and-copy the source knows the
 * attempt failed. From there on the last pages, the state and the digest
 * go into the socket together: once the digest is in, only the
 * destination's ERROR (a corrupt frame's answer) proves that it does not
 * run the guest, so a connection that dies or stalls leaves the source
 * paused, or running where it failed before the digest was in. At DONE the
 * destination runs the guest: it moved, unless the destination died with
 * it, and then the source's paused copy is what is left.
 */
static bool expected(enum fp_phase phase, enum fp_fault fault, enum outcome o)
{
	if (fault == FP_SLOW)
		return o == COMPLETED || o == KEPT;
	if (phase < FP_STOP_COPY || (phase < FP_DONE && fault == FP_CORRUPT))
		return o == KEPT;
	if (phase < FP_DONE)
		return o == KEPT || o == RESUMED;
	return o == (fault == FP_KILL ? RESUMED : MOVED);
}

static struct mig_host *new_destination(struct matrix *m, int cell)
{
	struct mig_host *h = &m->hosts[m->nr_hosts++];
	char name[16];

	snprintf(name, sizeof(name), "fm-%d", m->nr_hosts);
	mig_listen(h, name, mig_test_port(100 + 2 * cell + m->nr_hosts % 2));
	return h;
}

static bool runs(const struct mig_host *h)
{
	struct proc_result r = mig_ctl(h, "status");
	bool running = r.out && strstr(r.out, "\"running\":true");

	proc_result_free(&r);
	return running;
}

/* The source after a failed attempt: running, or paused as it must be
 * from the digest on; then where the guest goes on. */
static enum outcome after_failure(struct matrix *m, struct mig_host *dst,
				  bool dst_killed)
{
	struct mig_host *src = m->cur;
	struct proc_result r, end;

	if (runs(src))
		return KEPT;
	r = mig_ctl(src, "status");
	cr_expect(strstr(r.out, "paused"), "the source neither runs nor is paused: %s",
		  r.out);
	proc_result_free(&r);
	if (!dst_killed && mig_wait_heartbeat(dst, mig_last_heartbeat(src) + 2, 5000)) {
		/* The destination runs it: the source is the stale copy. */
		kill(src->proc.pid, SIGKILL);
		bg_wait(&src->proc, 10, &end);
		proc_result_free(&end);
		m->cur = dst;
		return MOVED;
	}
	r = mig_ctl(src, "resume");
	cr_expect_eq(r.status, 0, "resume: %s %s", r.out, r.err);
	proc_result_free(&r);
	return RESUMED;
}

static void cell(struct matrix *m, enum fp_phase phase, enum fp_fault fault,
		 int n)
{
	struct mig_host *dst;
	struct tcp_proxy px;
	struct proc_result r, end;
	enum outcome o;
	bool reached = false;

	for (int tries = 0; !reached && tries < CELL_TRIES; tries++) {
		dst = new_destination(m, n);
		cr_assert_eq(fault_proxy_start(&px, mig_test_port(300 + n),
					       dst->port, phase, fault,
					       dst->proc.pid),
			     0);
		mig_track(px.pid);
		r = mig_migrate(m->cur, px.port, opts);
		reached = tcp_proxy_finish(&px, 30000);
		if (strstr(r.out, "\"status\":\"completed\"")) {
			cr_expect(strstr(r.out, "\"verified\":true"), "%s",
				  r.out);
			bg_wait(&m->cur->proc, 20, &end);
			proc_result_free(&end);
			m->cur = dst;
			o = COMPLETED;
		} else {
			o = after_failure(m, dst, fault == FP_KILL);
		}
		proc_result_free(&r);
		if (!reached)
			cr_log_info("%s, %s: the phase was not reached (%s)",
				    fp_phase_names[phase],
				    fp_fault_names[fault], outcome_names[o]);
		/* Only a migration that went through without the phase
		 * leaves nothing else to check; it is tried again. */
		if (!reached && o != COMPLETED)
			break;
	}
	cr_expect(reached, "%s, %s: the phase was not reached in %d tries",
		  fp_phase_names[phase], fp_fault_names[fault], CELL_TRIES);
	m->out[fault] = o;
	cr_expect(expected(phase, fault, o), "%s, %s: %s", fp_phase_names[phase],
		  fp_fault_names[fault], outcome_names[o]);
	if (o == COMPLETED || o == MOVED) {
		mig_expect_guest_runs(m->cur, "where it went");
		return;
	}
	mig_expect_guest_runs(m->cur, "after the failed attempt");
	/* The destination threw the attempt away and listens (where it saw
	 * one): the retry goes to it, or to a new one in place of the
	 * killed. */
	if (fault != FP_KILL && !(phase == FP_CONNECT && fault == FP_CLOSE))
		cr_expect(mig_wait_stderr(dst, "discarded, waiting for the next",
					  15000),
			  "%s, %s: the destination did not discard the attempt",
			  fp_phase_names[phase], fp_fault_names[fault]);
	if (fault == FP_KILL)
		dst = new_destination(m, n);
	mig_expect_migrates(m->cur, dst, opts);
	m->cur = dst;
}

/* The table's header and this phase's row, as Markdown. */
static void print_row(const struct matrix *m, enum fp_phase phase)
{
	char head[256], row[256];
	int h = snprintf(head, sizeof(head), "| phase |");
	int r = snprintf(row, sizeof(row), "| %s |", fp_phase_names[phase]);

	for (int f = 0; f < FP_NR_FAULTS; f++) {
		h += snprintf(head + h, sizeof(head) - (size_t)h, " %s |",
			      fp_fault_names[f]);
		r += snprintf(row + r, sizeof(row) - (size_t)r, " %s |",
			      outcome_names[m->out[f]]);
	}
	cr_log_info("%s", head);
	cr_log_info("%s", row);
}

static void row(enum fp_phase phase)
{
	struct matrix *m = calloc(1, sizeof(*m));
	char name[16];

	cr_assert(m);
	snprintf(name, sizeof(name), "fm-%d-0", phase);
	mig_boot(&m->hosts[0], name, "2", WRITER);
	m->nr_hosts = 1;
	m->cur = &m->hosts[0];
	cr_assert(mig_wait_heartbeat(m->cur, 5, 10000));
	for (int f = 0; f < FP_NR_FAULTS; f++)
		cell(m, phase, (enum fp_fault)f, phase * FP_NR_FAULTS + f);
	print_row(m, phase);
	mig_end_guest_verified(m->cur);
	free(m);
}

#define ROW(test, phase)                                                   \
	Test(fault_matrix, test, .timeout = 300, .fini = mig_kill_leftovers) \
	{                                                                  \
		row(phase);                                                \
	}

ROW(at_the_connection, FP_CONNECT)
ROW(at_config, FP_CONFIG)
ROW(in_the_first_pass, FP_FIRST_PASS)
ROW(in_a_later_pass, FP_LATER_PASS)
ROW(at_stop_and_copy, FP_STOP_COPY)
ROW(at_the_state, FP_STATE)
ROW(at_the_digest, FP_DIGEST)
ROW(at_done, FP_DONE)
