/* SPDX-License-Identifier: MIT */
/* The subcommands; each returns kvmtrack's exit status. */
#ifndef KVMTRACK_CMD_H
#define KVMTRACK_CMD_H

int cmd_run(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_dirtyrate(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);
int cmd_checkpoint_info(int argc, char **argv);
int cmd_checkpoint_merge(int argc, char **argv);

#endif
