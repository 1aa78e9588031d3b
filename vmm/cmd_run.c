// SPDX-License-Identifier: MIT
/* `kvmtrack run`: boot an image and run it until it stops. */
#include <errno.h>
#include <string.h>
#include <stdio.h>

#include "vmm/cli.h"
#include "vmm/cmd.h"
#include "vmm/log.h"
#include "vmm/vm.h"

int cmd_run(int argc, char **argv)
{
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
	ret = vm_create(&cfg, &vm);
	if (ret < 0) {
		log_err("cannot create the VM: %s", strerror(-ret));
		return 1;
	}
	ret = vm_boot(vm, err, sizeof(err));
	if (ret < 0) {
		log_err("%s", err);
		vm_destroy(vm);
		return 1;
	}
	ret = vm_run(vm);
	vm_destroy(vm);
	return ret;
}
