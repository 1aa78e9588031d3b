// SPDX-License-Identifier: MIT
/*
 * `kvmtrack run`: boot an image (or receive a guest with --incoming) and
 * run it until it stops. The top of the program: it ties the VM to the
 * migration code, in both directions, so that a guest can move on again.
 */
#include <errno.h>
#include <string.h>
#include <stdio.h>

#include "app/cli.h"
#include "app/cmd.h"
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

/* What a VM needs before it runs, booted or received: the migrator. A
 * destination calls it again for a VM of a later attempt. */
static int ready_to_run(struct vm *vm, void *arg)
{
	struct migrator **mig = arg;

	migrator_destroy(*mig);
	*mig = NULL;
	return migrator_create(vm, mig) ?:
	       vm_add_control_commands(vm, migrate_register_commands, *mig) ?:
	       vm_add_control_commands(vm, dirtyrate_register_commands, NULL);
}

static int receive_guest(const struct vm_config *cfg, struct incoming **in,
			 struct migrator **mig, struct vm **vm_out)
{
	char err[512];
	int ret = incoming_receive(cfg, ready_to_run, mig, in, vm_out, err,
				   sizeof(err));

	if (ret < 0)
		log_err("--incoming %s: %s", cfg->incoming_uri, err);
	return ret;
}

int cmd_run(int argc, char **argv)
{
	struct incoming *in = NULL;
	struct migrator *mig = NULL;
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
		ret = receive_guest(&cfg, &in, &mig, &vm);
	else
		ret = boot_image(&cfg, &vm) ?: ready_to_run(vm, &mig);
	if (ret == 0)
		ret = vm_run(vm);
	else
		ret = 1;
	/* The migration thread uses the VM: join it first. */
	migrator_destroy(mig);
	vm_destroy(vm);
	incoming_free(in);
	return ret;
}
