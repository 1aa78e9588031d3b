// SPDX-License-Identifier: MIT
/*
 * The command line: space-separated key=value pairs. Unknown keys and bad
 * values are reported on serial and ignored, so a typo never stops a run.
 */
#include "guest/config.h"

#include <stddef.h>

#include "guest/abi/testdev.h"
#include "guest/lib/compiler.h"
#include "guest/lib/printf.h"
#include "guest/lib/sizes.h"
#include "guest/lib/string.h"

struct config config = {
	.workload = TESTDEV_WL_IDLE,
	.wss_bytes = 64ull << 20,
	.vcpus = 1,
	.report_ms = 100,
	.progress_ms = 1000,
	.write_percent = 100,
};

static const char *const workload_names[] = {
	[TESTDEV_WL_IDLE] = "idle",
	[TESTDEV_WL_SWEEP] = "sweep",
	[TESTDEV_WL_RANDOM] = "random",
	[TESTDEV_WL_HOTCOLD] = "hotcold",
	[TESTDEV_WL_ALIAS] = "alias",
};

/* stamp: a write stores the two stamp words only; page: the whole page. */
static const char *const fill_names[] = {
	[FILL_STAMP] = "stamp",
	[FILL_PAGE] = "page",
};

const char *workload_name(uint32_t wl)
{
	return wl < ARRAY_SIZE(workload_names) ? workload_names[wl] : "?";
}

/* Decimal digits with an optional fraction; *frac_scale is 10^digits. */
static bool parse_decimal(const char *s, size_t len, uint64_t *whole,
			  uint64_t *frac, uint64_t *frac_scale, size_t *used)
{
	size_t i = 0;

	*whole = 0;
	*frac = 0;
	*frac_scale = 1;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (*whole > (UINT64_MAX - 9) / 10)
			return false;
		*whole = *whole * 10 + (s[i] - '0');
	}
	if (i == 0)
		return false;
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			if (*frac_scale < 1000000000ull) {
				*frac = *frac * 10 + (s[i] - '0');
				*frac_scale *= 10;
			}
		}
	}
	*used = i;
	return true;
}

static bool parse_u64(const char *s, size_t len, uint64_t *v)
{
	uint64_t frac, scale;
	size_t used;

	return parse_decimal(s, len, v, &frac, &scale, &used) && used == len &&
	       scale == 1;
}

/* 64M, 1.5G, 4096, 512k (binary units; an optional trailing B/iB). */
static bool parse_size(const char *s, size_t len, uint64_t *bytes)
{
	uint64_t whole, frac, scale, mult = 1;
	size_t used;
	char c;

	if (!parse_decimal(s, len, &whole, &frac, &scale, &used))
		return false;
	if (used < len) {
		c = s[used] | 0x20;
		if (c == 'k')
			mult = 1ull << 10;
		else if (c == 'm')
			mult = 1ull << 20;
		else if (c == 'g')
			mult = 1ull << 30;
		else if (c == 't')
			mult = 1ull << 40;
		else
			return false;
		used++;
		if (used < len && (s[used] | 0x20) == 'i')
			used++;
		if (used < len && (s[used] | 0x20) == 'b')
			used++;
	}
	if (used != len || whole > (UINT64_MAX / mult) / 2)
		return false;
	*bytes = whole * mult + frac * mult / scale;
	return true;
}

/* Seconds, decimals allowed: "0.5" -> 500 ms. */
static bool parse_seconds_ms(const char *s, size_t len, uint64_t *ms)
{
	uint64_t whole, frac, scale;
	size_t used;

	if (!parse_decimal(s, len, &whole, &frac, &scale, &used) ||
	    used != len || whole > UINT64_MAX / 1000 / 2)
		return false;
	*ms = whole * 1000 + frac * 1000 / scale;
	return true;
}

static bool parse_bool(const char *s, size_t len, bool *b)
{
	if (len == 1 && (s[0] == '0' || s[0] == '1')) {
		*b = s[0] == '1';
		return true;
	}
	return false;
}

/* One of nr names (a table indexed by value): *v is its index. */
static bool parse_choice(const char *s, size_t len, const char *const *names,
			 uint32_t nr, uint32_t *v)
{
	uint32_t i;

	for (i = 0; i < nr; i++) {
		if (names[i] && strlen(names[i]) == len &&
		    !strncmp(names[i], s, len)) {
			*v = i;
			return true;
		}
	}
	return false;
}

static bool parse_u32(const char *s, size_t len, uint32_t *v)
{
	uint64_t v64;

	if (!parse_u64(s, len, &v64) || v64 > UINT32_MAX)
		return false;
	*v = v64;
	return true;
}

/* spin: pause loop (default, needs nothing from the VMM); halt: hlt with
 * interrupts off, which frees the host CPU but leaves the vCPU halted. */
static bool parse_apidle(const char *s, size_t len, bool *halt)
{
	if (len == 4 && !strncmp(s, "spin", 4))
		*halt = false;
	else if (len == 4 && !strncmp(s, "halt", 4))
		*halt = true;
	else
		return false;
	return true;
}

static bool key_is(const char *key, size_t klen, const char *name)
{
	return strlen(name) == klen && !strncmp(key, name, klen);
}

/* Returns false when the key is unknown; *bad when its value is wrong. */
static bool apply(const char *k, size_t klen, const char *v, size_t vlen,
		  bool *bad)
{
	struct config saved = config;
	bool ok;

	if (key_is(k, klen, "workload"))
		ok = parse_choice(v, vlen, workload_names,
				  ARRAY_SIZE(workload_names), &config.workload);
	else if (key_is(k, klen, "wss"))
		ok = parse_size(v, vlen, &config.wss_bytes);
	else if (key_is(k, klen, "rate"))
		ok = parse_u64(v, vlen, &config.rate_pages_per_s);
	else if (key_is(k, klen, "duration"))
		ok = parse_seconds_ms(v, vlen, &config.duration_ms);
	else if (key_is(k, klen, "vcpus"))
		ok = parse_u32(v, vlen, &config.vcpus);
	else if (key_is(k, klen, "verify"))
		ok = parse_bool(v, vlen, &config.verify);
	else if (key_is(k, klen, "fill"))
		ok = parse_choice(v, vlen, fill_names, ARRAY_SIZE(fill_names),
				  &config.fill);
	else if (key_is(k, klen, "heartbeat"))
		ok = parse_u64(v, vlen, &config.heartbeat_ms);
	else if (key_is(k, klen, "report"))
		ok = parse_u64(v, vlen, &config.report_ms) &&
		     config.report_ms;
	else if (key_is(k, klen, "progress"))
		ok = parse_u64(v, vlen, &config.progress_ms);
	else if (key_is(k, klen, "apidle"))
		ok = parse_apidle(v, vlen, &config.ap_halt);
	else if (key_is(k, klen, "sync"))
		ok = parse_bool(v, vlen, &config.sync);
	else if (key_is(k, klen, "write_percent"))
		ok = parse_u32(v, vlen, &config.write_percent) &&
		     config.write_percent >= 1 && config.write_percent <= 100;
	else if (key_is(k, klen, "alias_loop"))
		ok = parse_bool(v, vlen, &config.alias_loop);
	else if (key_is(k, klen, "alias_probe"))
		ok = parse_size(v, vlen, &config.alias_probe_gpa);
	else if (key_is(k, klen, "debugexit"))
		ok = parse_bool(v, vlen, &config.debugexit);
	/* Hidden debug keys, for testing the guest itself. */
	else if (key_is(k, klen, "_corrupt"))
		ok = parse_u64(v, vlen, &config.corrupt_pages);
	else if (key_is(k, klen, "_crash"))
		ok = parse_bool(v, vlen, &config.crash);
	else
		return false;
	/* Parsers may have stored part of a bad value: undo it. */
	if (!ok)
		config = saved;
	*bad = !ok;
	return true;
}

void config_parse(const char *cmdline)
{
	const char *p = cmdline, *tok, *eq;
	size_t len;
	bool bad = false;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		tok = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		len = p - tok;
		if (!len)
			continue;
		eq = memchr(tok, '=', len);
		if (!eq || !apply(tok, eq - tok, eq + 1, tok + len - eq - 1,
				  &bad))
			printf("kvmtrack-guest: unknown key '%.*s' ignored\n",
			       (int)(eq ? eq - tok : (long)len), tok);
		else if (bad)
			printf("kvmtrack-guest: bad value in '%.*s' ignored\n",
			       (int)len, tok);
	}
	config.wss_bytes = ALIGN_DOWN(config.wss_bytes, PAGE_SIZE);
}

void config_print(void)
{
	printf("kvmtrack-guest: workload=%s wss=%luK rate=%lu duration=%lums vcpus=%u verify=%u fill=%s heartbeat=%lums report=%lums\n",
	       workload_name(config.workload), config.wss_bytes >> 10,
	       config.rate_pages_per_s, config.duration_ms, config.vcpus,
	       config.verify, fill_names[config.fill], config.heartbeat_ms,
	       config.report_ms);
}
