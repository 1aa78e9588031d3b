/* SPDX-License-Identifier: MIT */
/* The control socket of a running VM (vmm/commands.c). */
#ifndef KVMTRACK_VM_COMMANDS_H
#define KVMTRACK_VM_COMMANDS_H

struct control;
struct vm;

/*
 * Creates the control object of vm with the VM's own commands ("status",
 * "pause", "resume", "quit", "stats") and those of its dirty log and its
 * aliases, then listens on path. Commands from the layers above are added
 * through vm_add_control_commands(). 0 or -errno, logged.
 */
int vm_control_start(struct vm *vm, const char *path, struct control **out);

#endif
