// SPDX-License-Identifier: MIT
/*
 * A small printf: %d %i %u %x %X %p %s %c %%, flags '-' '0' '#', width and
 * precision (also '*'), length modifiers hh h l ll z. Lines go to the
 * serial port whole, under a lock, so CPUs never interleave mid-line.
 */
#include "guest/lib/printf.h"

#include <stdbool.h>
#include <stdint.h>

#include "guest/lib/compiler.h"
#include "guest/lib/serial.h"
#include "guest/lib/string.h"
#include "guest/lib/x86.h"

#define LINE_BYTES 256

struct out {
	char *buf;
	size_t size;
	size_t pos;
};

struct spec {
	bool left;
	bool zero;
	bool alt;
	int width;
	int prec; /* -1: none */
	int len; /* 0: int, 1: long, 2: long long, -1: short, -2: char */
};

static void put(struct out *o, char c)
{
	if (o->pos + 1 < o->size)
		o->buf[o->pos] = c;
	o->pos++;
}

static void put_pad(struct out *o, int n, char c)
{
	while (n-- > 0)
		put(o, c);
}

static void put_str(struct out *o, const char *s, const struct spec *sp)
{
	size_t n;

	if (!s)
		s = "(null)";
	n = sp->prec >= 0 ? strnlen(s, sp->prec) : strlen(s);
	if (!sp->left)
		put_pad(o, sp->width - (int)n, ' ');
	for (size_t i = 0; i < n; i++)
		put(o, s[i]);
	if (sp->left)
		put_pad(o, sp->width - (int)n, ' ');
}

static void put_num(struct out *o, uint64_t v, bool neg, unsigned int base,
		    bool upper, const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, prefix_len, pad;
	const char *prefix = neg ? "-" : "";

	if (sp->alt && base == 16 && v)
		prefix = upper ? "0X" : "0x";
	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	prefix_len = strlen(prefix);
	pad = sp->width - n - prefix_len;

	if (!sp->left && !sp->zero)
		put_pad(o, pad, ' ');
	for (const char *p = prefix; *p; p++)
		put(o, *p);
	if (!sp->left && sp->zero)
		put_pad(o, pad, '0');
	while (n)
		put(o, tmp[--n]);
	if (sp->left)
		put_pad(o, pad, ' ');
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ .prec = -1 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else if (*f == '#')
			sp->alt = true;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		f++;
	}
	for (; *f >= '0' && *f <= '9'; f++)
		sp->width = sp->width * 10 + (*f - '0');
	if (*f == '.') {
		sp->prec = 0;
		if (*++f == '*') {
			sp->prec = va_arg(*ap, int);
			f++;
		}
		for (; *f >= '0' && *f <= '9'; f++)
			sp->prec = sp->prec * 10 + (*f - '0');
	}
	for (;; f++) {
		if (*f == 'l' || *f == 'z')
			sp->len++;
		else if (*f == 'h')
			sp->len--;
		else
			break;
	}
	return f;
}

static uint64_t arg_unsigned(const struct spec *sp, va_list *ap)
{
	if (sp->len >= 1)
		return sp->len == 1 ? va_arg(*ap, unsigned long) :
				      va_arg(*ap, unsigned long long);
	if (sp->len == -1)
		return (unsigned short)va_arg(*ap, unsigned int);
	if (sp->len <= -2)
		return (unsigned char)va_arg(*ap, unsigned int);
	return va_arg(*ap, unsigned int);
}

static int64_t arg_signed(const struct spec *sp, va_list *ap)
{
	if (sp->len >= 1)
		return sp->len == 1 ? va_arg(*ap, long) : va_arg(*ap, long long);
	if (sp->len == -1)
		return (short)va_arg(*ap, int);
	if (sp->len <= -2)
		return (signed char)va_arg(*ap, int);
	return va_arg(*ap, int);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
	struct out o = { .buf = buf, .size = size };
	struct spec sp;
	va_list ap;
	int64_t sv;

	va_copy(ap, ap_in);
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			put(&o, *f);
			continue;
		}
		f = parse_spec(f + 1, &sp, &ap);
		switch (*f) {
		case 'd':
		case 'i':
			sv = arg_signed(&sp, &ap);
			put_num(&o, sv < 0 ? -(uint64_t)sv : (uint64_t)sv,
				sv < 0, 10, false, &sp);
			break;
		case 'u':
			put_num(&o, arg_unsigned(&sp, &ap), false, 10, false,
				&sp);
			break;
		case 'x':
		case 'X':
			put_num(&o, arg_unsigned(&sp, &ap), false, 16, *f == 'X',
				&sp);
			break;
		case 'p':
			sp.alt = true;
			put_num(&o, (uintptr_t)va_arg(ap, void *), false, 16,
				false, &sp);
			break;
		case 's':
			put_str(&o, va_arg(ap, const char *), &sp);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case '%':
			put(&o, '%');
			break;
		case '\0':
			f--;
			break;
		default:
			put(&o, '%');
			put(&o, *f);
			break;
		}
	}
	va_end(ap);
	if (size)
		buf[o.pos < size ? o.pos : size - 1] = '\0';
	return o.pos;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* Console lock: a test-and-set on a native lock-prefixed xchg. */
static volatile uint32_t console_lock;

static bool console_trylock(void)
{
	return __atomic_exchange_n(&console_lock, 1, __ATOMIC_ACQUIRE) == 0;
}

static void console_unlock(void)
{
	__atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE);
}

static void vprint_line(const char *fmt, va_list ap)
{
	char line[LINE_BYTES];
	int n = vsnprintf(line, sizeof(line), fmt, ap);

	serial_write(line, MIN((size_t)n, sizeof(line) - 1));
}

void printf(const char *fmt, ...)
{
	va_list ap;

	while (!console_trylock())
		cpu_relax();
	va_start(ap, fmt);
	vprint_line(fmt, ap);
	va_end(ap);
	console_unlock();
}

void printf_unlocked_fallback(const char *fmt, ...)
{
	/* ~10 ms emulated: long enough for another CPU to finish a line. */
	unsigned int tries = 5000;
	bool locked;
	va_list ap;

	while (!(locked = console_trylock()) && tries--)
		cpu_relax();
	va_start(ap, fmt);
	vprint_line(fmt, ap);
	va_end(ap);
	if (locked)
		console_unlock();
}
