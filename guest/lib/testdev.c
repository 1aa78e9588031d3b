// SPDX-License-Identifier: MIT
/*
 * Messages to kvmtrack's test device. Each MMIO access from CPL3 is an
 * exit (~35 us), so a message is built in guest RAM and handed over with
 * a single 64-bit doorbell store of its address; kvmtrack handles it
 * within that exit and may write a reply into the buffer.
 */
#include "guest/lib/testdev.h"

#include "guest/abi/testdev.h"
#include "guest/lib/compiler.h"
#include "guest/lib/layout.h"
#include "guest/lib/machine.h"
#include "guest/lib/printf.h"
#include "guest/lib/x86.h"

#define MSG_SLOT_BYTES 256

/*
 * One buffer per CPU so CPUs never share one; outside the working set, so
 * messages never disturb the stamps or the dirty-page ground truth of the
 * pages being written.
 */
static union {
	struct testdev_msg_hdr hdr;
	struct testdev_hello hello;
	struct testdev_report report;
	struct testdev_result result;
	struct testdev_poll poll;
	uint8_t raw[MSG_SLOT_BYTES];
} msg_buf[MAX_CPUS] __aligned(64);

_Static_assert(sizeof(msg_buf[0]) == MSG_SLOT_BYTES, "64-byte multiple");

static uint64_t testdev_gpa;

bool testdev_probe(void)
{
	uint32_t id, version;

	if (!machine.testdev_gpa)
		return false;
	id = mmio_read32(machine.testdev_gpa + TESTDEV_REG_ID);
	version = mmio_read32(machine.testdev_gpa + TESTDEV_REG_VERSION);
	if (id != TESTDEV_ID) {
		printf("kvmtrack-guest: no testdev at %#lx (id %#x)\n",
		       machine.testdev_gpa, id);
		return false;
	}
	printf("kvmtrack-guest: testdev at %#lx version %u\n",
	       machine.testdev_gpa, version);
	testdev_gpa = machine.testdev_gpa;
	return true;
}

static void send(uint32_t cpu, uint32_t type, uint32_t len_bytes)
{
	msg_buf[cpu].hdr.type = type;
	msg_buf[cpu].hdr.len_bytes = len_bytes;
	/* The message must be in memory before the doorbell exit reads it,
	 * and a reply read only after it. */
	barrier();
	mmio_write64(testdev_gpa + TESTDEV_REG_DOORBELL,
		     (uintptr_t)&msg_buf[cpu]);
	barrier();
}

void testdev_hello(uint32_t nr_cpus, uint32_t workload, uint64_t wss_bytes,
		   uint64_t wss_base_gpa)
{
	struct testdev_hello *m = &msg_buf[0].hello;

	if (!testdev_gpa)
		return;
	m->nr_cpus = nr_cpus;
	m->workload = workload;
	m->wss_bytes = wss_bytes;
	m->wss_base_gpa = wss_base_gpa;
	send(0, TESTDEV_MSG_HELLO, sizeof(*m));
}

void testdev_report(uint32_t cpu, const struct testdev_report *r)
{
	if (!testdev_gpa)
		return;
	msg_buf[cpu].report = *r;
	send(cpu, TESTDEV_MSG_REPORT, sizeof(*r));
}

void testdev_result(uint32_t cpu, uint32_t status, uint64_t checked,
		    uint64_t bad, uint64_t first_bad_gpa)
{
	struct testdev_result *m = &msg_buf[cpu].result;

	if (!testdev_gpa)
		return;
	*m = (struct testdev_result){
		.status = status,
		.pages_checked = checked,
		.pages_bad = bad,
		.first_bad_gpa = first_bad_gpa,
	};
	send(cpu, TESTDEV_MSG_RESULT, sizeof(*m));
}

uint32_t testdev_poll_arg(uint32_t cpu, uint64_t *arg)
{
	struct testdev_poll *m = &msg_buf[cpu].poll;

	*arg = 0;
	if (!testdev_gpa)
		return TESTDEV_CMD_NONE;
	*m = (struct testdev_poll){ .cmd = TESTDEV_CMD_NONE };
	send(cpu, TESTDEV_MSG_POLL, sizeof(*m));
	*arg = *(volatile uint64_t *)&m->arg;
	return *(volatile uint32_t *)&m->cmd;
}

uint32_t testdev_poll(uint32_t cpu)
{
	uint64_t arg;

	return testdev_poll_arg(cpu, &arg);
}
