// SPDX-License-Identifier: MIT
/*
 * `kvmtrack run`: boot an image (or receive a guest with --incoming, or
 * resume one from a checkpoint with --restore) and run it until it stops.
 * The top of the program: it ties the VM to the migration and checkpoint
 * code, in both directions, so that a guest can move on again.
 */
#include <errno.h>
#include <string.h>
#include <stdio.h>

#include "app/cli.h"
#include "app/cmd.h"
#include "app/testdev_commands.h"
#include "checkpoint/checkpoint.h"
#include "dirtyrate/dirtyrate.h"
#include "lib/log.h"
#include "migrate/incoming.h"
#include "migrate/migrator.h"
#include "migrate/vm_state.h"
#include "vmm/vm.h"

static int boot_image(const struct vm_config *cfg, struct vm **vm_out)
{
	char err[512];
	int ret = vm_create(cfg, vm_out);

	if (ret < 0) {
		log_err("cannot create the VM: %s", strerror(-ret));
		return ret;
	}
	ret = vm_boot(*vm_out, err, sizeof(err));
	if (ret < 0) {
		log_err("%s", err);
		vm_destroy(*vm_out);
		*vm_out = NULL;
		return ret;
	}
	/* What saving its state will need, found while no vCPU runs (a
	 * destination's VM: in its build, incoming.c); a failure is retried
	 * when a migration starts. */
	vm_state_prepare(*vm_out);
	return 0;
}

/* What moves the guest on or stores it: built for each VM. */
struct movers {
	struct migrator *mig;
	struct checkpointer *ckpt;
};

static void movers_free(struct movers *m)
{
	checkpointer_destroy(m->ckpt);
	m->ckpt = NULL;
	migrator_destroy(m->mig);
	m->mig = NULL;
}

/* A checkpoint and a migration exclude each other. A migration cannot
 * start during a checkpoint: the two commands share the control thread. */
static int migration_busy(void *arg, char *err, size_t err_len)
{
	struct movers *m = arg;
	char why[128];
	int ret = migrator_idle(m->mig, why, sizeof(why));

	if (ret)
		snprintf(err, err_len,
			 "refused: %s; take the checkpoint once it has ended",
			 why);
	return ret;
}

/* What a VM needs before it runs, booted, received or restored: the
 * migrator and the checkpointer. A destination calls it again for a VM
 * of a later attempt. */
static int ready_to_run(struct vm *vm, void *arg)
{
	struct movers *m = arg;

	movers_free(m);
	return migrator_create(vm, &m->mig) ?:
	       checkpointer_create(vm, migration_busy, m, &m->ckpt) ?:
	       vm_add_control_commands(vm, migrate_register_commands, m->mig) ?:
	       vm_add_control_commands(vm, dirtyrate_register_commands, NULL) ?:
	       vm_add_control_commands(vm, testdev_register_commands, NULL) ?:
	       vm_add_control_commands(vm, checkpoint_register_commands,
				       m->ckpt);
}

static int receive_guest(const struct vm_config *cfg, struct incoming **in,
			 struct movers *m, struct vm **vm_out)
{
	char err[512];
	int ret = incoming_receive(cfg, ready_to_run, m, in, vm_out, err,
				   sizeof(err));

	if (ret < 0)
		log_err("--incoming %s: %s", cfg->incoming_uri, err);
	return ret;
}

/* A restored guest's checkpoint is the parent of its next incremental
 * one: the dirty set is attached before the guest runs. */
static int continue_chain(struct ckpt_restored *restored, struct movers *m)
{
	const char *dir, *name;
	uint64_t digest;
	int ret;

	checkpoint_restored_origin(restored, &dir, &name, &digest);
	ret = checkpointer_adopt(m->ckpt, dir, name, digest);
	if (ret)
		log_err("--restore: cannot track what the guest writes from "
			"%s/%s on: %s",
			dir, name, strerror(-ret));
	return ret;
}

static int restore_guest(const struct vm_config *cfg,
			 struct ckpt_restored **restored, struct vm **vm_out)
{
	char err[1024];
	int ret = checkpoint_restore(cfg, cfg->restore_path, restored, vm_out,
				     err, sizeof(err));

	if (ret < 0)
		log_err("--restore %s: %s", cfg->restore_path, err);
	return ret;
}

int cmd_run(int argc, char **argv)
{
	struct ckpt_restored *restored = NULL;
	struct incoming *in = NULL;
	struct movers movers = {0};
	struct vm_config cfg;
	struct vm *vm = NULL;
	char err[512];
	int ret;

	ret = cli_parse_run(argc, argv, &cfg, err, sizeof(err));
	if (ret == -EAGAIN) {
		fputs(cli_run_usage, stdout);
		return 0;
	}
	if (ret < 0) {
		fprintf(stderr, "kvmtrack run: %s\n%s", err, cli_run_usage);
		return 2;
	}
	if (cfg.incoming_uri)
		ret = receive_guest(&cfg, &in, &movers, &vm);
	else if (cfg.restore_path)
		ret = restore_guest(&cfg, &restored, &vm) ?:
		      ready_to_run(vm, &movers) ?:
		      continue_chain(restored, &movers);
	else
		ret = boot_image(&cfg, &vm) ?: ready_to_run(vm, &movers);
	if (ret == 0)
		ret = vm_run(vm);
	else
		ret = 1;
	/* The migration thread uses the VM: join it first; so do a lazy
	 * restore's. */
	movers_free(&movers);
	checkpoint_restore_finish(restored);
	vm_destroy(vm);
	incoming_free(in);
	checkpoint_restored_free(restored);
	return ret;
}
