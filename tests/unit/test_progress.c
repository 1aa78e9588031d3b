// SPDX-License-Identifier: MIT
/*
 * A migration's progress as query-migrate reports it (migrate/progress.h):
 * a query with wait_ms follows a running migration pass by pass to its
 * end, so that `kvmtrack migrate` learns of both without polling the
 * source.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/json/json.h"
#include "migrate/converge.h"
#include "migrate/progress.h"

static struct mig_progress progress;

static void setup(void)
{
	mig_progress_init(&progress);
	mig_progress_begin(&progress);
	mig_progress_set_status(&progress, MIG_STATUS_ACTIVE);
}

static void teardown(void)
{
	mig_progress_destroy(&progress);
}

/* query-migrate's "status" after waiting up to wait_ms. */
static char *query_status(uint64_t wait_ms)
{
	struct json_value *v = NULL;
	const char *status = "", *text;
	char err[128], *out;
	struct jw w;

	jw_init(&w);
	mig_progress_query(&progress, "tcp:127.0.0.1:1", wait_ms, &w);
	text = jw_finish(&w);
	cr_assert(text);
	cr_assert_eq(json_parse(text, strlen(text), &v, err, sizeof(err)), 0,
		     "%s: %s", err, text);
	json_get_string(v, "status", &status);
	out = strdup(status);
	json_free(v);
	jw_free(&w);
	return out;
}

/* The migration ends a little after the query began to wait. */
static void *complete_soon(void *arg)
{
	struct timespec t = { 0, 100 * 1000000 };

	nanosleep(&t, NULL);
	/* Lingers until the waiting query has read "completed". */
	mig_progress_complete(&progress, 10000);
	return NULL;
}

/* A pass ends a little after the query began to wait. */
static void *pass_soon(void *arg)
{
	struct converge_input in = { .remaining_pages = 7, .pass_s = 1 };
	struct converge_decision d = { .reason = "test" };
	struct timespec t = { 0, 100 * 1000000 };

	nanosleep(&t, NULL);
	mig_progress_pass(&progress, 1, &d, &in);
	return NULL;
}

TestSuite(progress, .init = setup, .fini = teardown);

Test(progress, a_query_without_wait_answers_at_once)
{
	char *status = query_status(0);

	cr_expect_str_eq(status, "active");
	free(status);
}

Test(progress, a_waiting_query_answers_when_the_migration_ends,
     .timeout = 60)
{
	pthread_t t;
	char *status;

	cr_assert_eq(pthread_create(&t, NULL, complete_soon, NULL), 0);
	status = query_status(600 * 1000);
	pthread_join(t, NULL);
	cr_expect_str_eq(status, "completed");
	free(status);
}

/* Without the wake-up at a pass's end it would wait the full ten minutes:
 * the suite's timeout fails it. */
Test(progress, a_waiting_query_answers_when_a_pass_ends, .timeout = 60)
{
	struct jw w;
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, pass_soon, NULL), 0);
	jw_init(&w);
	mig_progress_query(&progress, "tcp:127.0.0.1:1", 600 * 1000, &w);
	pthread_join(t, NULL);
	cr_expect(strstr(jw_finish(&w), "\"status\":\"active\""), "%s", w.buf);
	cr_expect(strstr(w.buf, "\"passes\":1,"), "%s", w.buf);
	jw_free(&w);
}

Test(progress, a_waiting_query_gives_up_after_wait_ms)
{
	char *status = query_status(20);

	cr_expect_str_eq(status, "active");
	free(status);
}

Test(progress, nothing_to_wait_for_without_a_migration)
{
	char *status;

	mig_progress_destroy(&progress);
	mig_progress_init(&progress);
	status = query_status(1000 * 60);
	cr_expect_str_eq(status, "none");
	free(status);
}
