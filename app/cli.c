// SPDX-License-Identifier: MIT
/* Command-line parsing for `kvmtrack run` (see cli.h). */
#include "app/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/registry.h"
#include "lib/parse.h"
#include "vmm/alias/alias.h"
#include "vmm/dirty/dirty.h"
#include "vmm/mem/memory.h"
#include "vmm/vm_config.h"

const char cli_run_usage[] =
	"Usage: kvmtrack run [options] IMAGE\n"
	"  -m, --mem SIZE          guest RAM (default 256M; K/M/G suffixes)\n"
	"  -c, --cpus N            vCPUs (default 1, at most 16)\n"
	"      --cmdline STR       guest command line\n"
	"      --initrd FILE       initial ramdisk for a Linux kernel\n"
	"      --serial KIND       stdio | file:PATH | none (default stdio)\n"
	"      --control PATH      QMP-style control socket (JSON lines)\n"
	"      --trace-exits       log every VM exit with its instruction\n"
	"      --strict-io         stop the VM at a port or MMIO access no device\n"
	"                          claims (default: reads give all ones, writes\n"
	"                          are dropped, each address counted in stats)\n"
	"      --incoming URI      wait for a live migration (tcp:HOST:PORT)\n"
	"                          instead of booting an IMAGE\n"
	"      --tls-creds DIR     with --incoming: TLS 1.3, x509 in QEMU's layout\n"
	"                          (ca-cert.pem, server-cert.pem, server-key.pem);\n"
	"                          the source must show a certificate of the CA\n"
	"      --tls-authz NAME    with --tls-creds: the source's certificate must\n"
	"                          carry NAME, a host name or a whole DN\n"
	"                          (repeatable: any of them)\n"
	"      --tls-psk FILE      with --incoming: TLS 1.3 with a pre-shared key;\n"
	"                          FILE as QEMU's keys.psk (identity:hexkey lines)\n"
	"      --restore DIR[/NAME]  resume the guest of a checkpoint chain's\n"
	"                          newest checkpoint (or NAME), verified, instead\n"
	"                          of booting an IMAGE\n"
	"      --restore-mode MODE copy (default: every page in place, then\n"
	"                          the guest runs) or lazy (the guest runs at\n"
	"                          once; each page is put in place, checked,\n"
	"                          at its first touch or by a background fill)\n"
	"      --mac-psk FILE      with --restore: the layers must carry keyed\n"
	"                          MACs under a key of FILE (keys.psk), checked\n"
	"                          with every page; required for a chain taken\n"
	"                          with checkpoint --mac-psk\n"
	"      --dirty-log KIND    bitmap | manual | ring[:ENTRIES] (default: the\n"
	"                          best the host has; `status` names it)\n"
	"      --alias GPA=SRC_GPA+SIZE  read-only alias of guest memory (repeatable)\n"
	"      --alias-write POLICY      guest writes to an alias: ignore | log | stop\n"
	"                          (default log)\n"
	"      --share NAME=FILE@GPA     map FILE read-only at GPA (repeatable)\n"
	"  -h, --help              this text\n";

static int parse_serial(const char *text, struct serial_config *serial)
{
	if (strcmp(text, "stdio") == 0) {
		serial->kind = SERIAL_STDIO;
	} else if (strcmp(text, "none") == 0) {
		serial->kind = SERIAL_NONE;
	} else if (strncmp(text, "file:", 5) == 0 && text[5] != '\0') {
		serial->kind = SERIAL_FILE;
		serial->path = text + 5;
	} else {
		return -EINVAL;
	}
	return 0;
}

static int parse_mem(const char *text, struct vm_config *cfg, char *err,
		     size_t err_len)
{
	int ret = parse_size(text, &cfg->mem_bytes);

	if (ret < 0) {
		snprintf(err, err_len,
			 "--mem '%s': not a size (examples: 256M, 1G)", text);
		return -EINVAL;
	}
	if (cfg->mem_bytes < VM_MIN_MEM_BYTES ||
	    cfg->mem_bytes % GUEST_PAGE_BYTES ||
	    guest_mem_plan(&(struct guest_mem){}, cfg->mem_bytes) < 0) {
		snprintf(err, err_len,
			 "--mem '%s': must be a multiple of 4K and at least 2M",
			 text);
		return -EINVAL;
	}
	return 0;
}

enum {
	OPT_CMDLINE = 256,
	OPT_SERIAL,
	OPT_CONTROL,
	OPT_TRACE_EXITS,
	OPT_STRICT_IO,
	OPT_DIRTY_LOG,
	OPT_INITRD,
	OPT_INCOMING,
	OPT_ALIAS,
	OPT_ALIAS_WRITE,
	OPT_SHARE,
	OPT_RESTORE,
	OPT_RESTORE_MODE,
	OPT_MAC_PSK,
	OPT_TLS_CREDS,
	OPT_TLS_PSK,
	OPT_TLS_AUTHZ,
};

static const struct option run_options[] = {
	{ "mem", required_argument, NULL, 'm' },
	{ "cpus", required_argument, NULL, 'c' },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "trace-exits", no_argument, NULL, OPT_TRACE_EXITS },
	{ "strict-io", no_argument, NULL, OPT_STRICT_IO },
	{ "dirty-log", required_argument, NULL, OPT_DIRTY_LOG },
	{ "incoming", required_argument, NULL, OPT_INCOMING },
	{ "alias", required_argument, NULL, OPT_ALIAS },
	{ "alias-write", required_argument, NULL, OPT_ALIAS_WRITE },
	{ "share", required_argument, NULL, OPT_SHARE },
	{ "restore", required_argument, NULL, OPT_RESTORE },
	{ "restore-mode", required_argument, NULL, OPT_RESTORE_MODE },
	{ "mac-psk", required_argument, NULL, OPT_MAC_PSK },
	{ "tls-creds", required_argument, NULL, OPT_TLS_CREDS },
	{ "tls-psk", required_argument, NULL, OPT_TLS_PSK },
	{ "tls-authz", required_argument, NULL, OPT_TLS_AUTHZ },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void config_defaults(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_bytes = VM_DEFAULT_MEM_BYTES;
	cfg->nr_cpus = 1;
	cfg->cmdline = "";
	cfg->serial.kind = SERIAL_STDIO;
	cfg->devices = device_table;
	cfg->nr_devices = device_table_len;
}

static int parse_window(int opt, const char *arg, struct vm_config *cfg,
			char *err, size_t err_len)
{
	if (opt == OPT_ALIAS_WRITE)
		return alias_parse_write_policy(arg, &cfg->alias.write_policy, err,
						err_len);
	if (opt == OPT_ALIAS && cfg->alias.nr_aliases < VM_MAX_ALIAS_ARGS)
		return alias_parse_spec(arg, &cfg->alias.aliases[cfg->alias.nr_aliases++],
					err, err_len);
	if (opt == OPT_SHARE && cfg->alias.nr_shares < VM_MAX_SHARE_ARGS)
		return share_parse_spec(arg, &cfg->alias.shares[cfg->alias.nr_shares++],
					err, err_len);
	snprintf(err, err_len, "--%s '%s': at most %d allowed",
		 opt == OPT_ALIAS ? "alias" : "share", arg,
		 opt == OPT_ALIAS ? VM_MAX_ALIAS_ARGS : VM_MAX_SHARE_ARGS);
	return -EINVAL;
}

/* What they mean is checked by the migration's TLS (migrate/tls.h),
 * which loads them before listening. */
static int parse_tls(int opt, const char *arg, struct vm_config *cfg,
		     char *err, size_t err_len)
{
	if (opt == OPT_TLS_CREDS)
		cfg->tls_creds = arg;
	else if (opt == OPT_TLS_PSK)
		cfg->tls_psk = arg;
	else if (cfg->nr_tls_authz < VM_MAX_TLS_AUTHZ)
		cfg->tls_authz[cfg->nr_tls_authz++] = arg;
	else {
		snprintf(err, err_len, "--tls-authz '%s': at most %d allowed",
			 arg, VM_MAX_TLS_AUTHZ);
		return -EINVAL;
	}
	return 0;
}

static int parse_one(int opt, const char *arg, struct vm_config *cfg,
		     char *err, size_t err_len)
{
	uint64_t n;

	switch (opt) {
	case 'm':
		cfg->mem_explicit = true;
		return parse_mem(arg, cfg, err, err_len);
	case 'c':
		if (parse_uint(arg, 1, VM_MAX_CPUS, &n) < 0) {
			snprintf(err, err_len,
				 "--cpus '%s': must be a number from 1 to %d",
				 arg, VM_MAX_CPUS);
			return -EINVAL;
		}
		cfg->nr_cpus = (unsigned int)n;
		cfg->cpus_explicit = true;
		return 0;
	case OPT_CMDLINE:
		if (strlen(arg) >= VM_CMDLINE_MAX) {
			snprintf(err, err_len,
				 "--cmdline: %zu bytes, at most %d allowed",
				 strlen(arg), VM_CMDLINE_MAX - 1);
			return -EINVAL;
		}
		cfg->cmdline = arg;
		return 0;
	case OPT_SERIAL:
		if (parse_serial(arg, &cfg->serial) < 0) {
			snprintf(err, err_len,
				 "--serial '%s': expected stdio, file:PATH or none",
				 arg);
			return -EINVAL;
		}
		return 0;
	case OPT_CONTROL:
		cfg->control_path = arg;
		return 0;
	case OPT_INITRD:
		cfg->initrd_path = arg;
		return 0;
	case OPT_TRACE_EXITS:
		cfg->trace_exits = true;
		return 0;
	case OPT_STRICT_IO:
		cfg->strict_io = true;
		return 0;
	case OPT_DIRTY_LOG:
		return dirty_parse_backend(arg, &cfg->dirty, err, err_len);
	case OPT_INCOMING:
		cfg->incoming_uri = arg;
		return 0;
	case OPT_RESTORE:
		cfg->restore_path = arg;
		return 0;
	case OPT_MAC_PSK:
		cfg->restore_mac_psk = arg;
		return 0;
	case OPT_RESTORE_MODE:
		cfg->restore_lazy = !strcmp(arg, "lazy");
		if (cfg->restore_lazy || !strcmp(arg, "copy"))
			return 0;
		snprintf(err, err_len, "--restore-mode '%s': expected copy or lazy",
			 arg);
		return -EINVAL;
	case OPT_ALIAS:
	case OPT_ALIAS_WRITE:
	case OPT_SHARE:
		return parse_window(opt, arg, cfg, err, err_len);
	case OPT_TLS_CREDS:
	case OPT_TLS_PSK:
	case OPT_TLS_AUTHZ:
		return parse_tls(opt, arg, cfg, err, err_len);
	}
	return -EINVAL;
}

int cli_parse_run(int argc, char **argv, struct vm_config *cfg, char *err,
		  size_t err_len)
{
	int opt, ret;

	config_defaults(cfg);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+m:c:h", run_options, NULL)) !=
	       -1) {
		if (opt == 'h') {
			snprintf(err, err_len, "help");
			return -EAGAIN;
		}
		if (opt == '?' || opt == ':') {
			snprintf(err, err_len, "%s: unknown option or missing value",
				 argv[optind - 1]);
			return -EINVAL;
		}
		ret = parse_one(opt, optarg, cfg, err, err_len);
		if (ret < 0)
			return ret;
	}
	/* A destination gets its guest from the source, not from an image;
	 * a restored one from its checkpoint. */
	if (cfg->incoming_uri && cfg->restore_path) {
		snprintf(err, err_len, "--incoming and --restore exclude each other");
		return -EINVAL;
	}
	if ((cfg->tls_creds || cfg->tls_psk || cfg->nr_tls_authz) &&
	    !cfg->incoming_uri) {
		snprintf(err, err_len,
			 "--tls-creds, --tls-psk and --tls-authz need --incoming (a source takes them in `kvmtrack migrate`)");
		return -EINVAL;
	}
	if (cfg->restore_mac_psk && !cfg->restore_path) {
		snprintf(err, err_len, "--mac-psk goes with --restore");
		return -EINVAL;
	}
	if (cfg->restore_lazy && !cfg->restore_path) {
		snprintf(err, err_len, "--restore-mode lazy needs --restore");
		return -EINVAL;
	}
	if (cfg->incoming_uri || cfg->restore_path) {
		if (optind == argc)
			return 0;
		snprintf(err, err_len, "%s: no IMAGE may be given",
			 cfg->incoming_uri ? "--incoming receives the guest" :
					     "--restore resumes the guest");
		return -EINVAL;
	}
	if (optind != argc - 1) {
		snprintf(err, err_len, optind >= argc ? "no IMAGE given"
						      : "more than one IMAGE given");
		return -EINVAL;
	}
	cfg->image_path = argv[optind];
	return 0;
}
