// random, map and avr-libc's number formatting (dtostrf, itoa) for sketches.
#include "Arduino.h"

#include "runtime.h"

extern "C" {
#include "hal_random.h"
#include "shim.h"
}

/* After randomSeed(), the sketch's own reproducible stream; before, the
 * device's seeded stream (the same run replays the same numbers). */
static bool own_stream;
static uint64_t own_state;

static uint32_t next_u32()
{
	if (own_stream)
		return (uint32_t)(shim_random_next(&own_state) >> 32);
	return hal_random_u32();
}

uint32_t esp_random(void)
{
	return next_u32();
}

long random(long howbig)
{
	if (howbig <= 0)
		return 0;
	return (long)(next_u32() % (uint32_t)howbig);
}

long random(long howsmall, long howbig)
{
	if (howsmall >= howbig)
		return howsmall;
	return howsmall + random(howbig - howsmall);
}

void randomSeed(unsigned long seed)
{
	if (seed == 0)
		return;
	own_stream = true;
	own_state = seed;
}

long map(long x, long in_min, long in_max, long out_min, long out_max)
{
	/* The ESP32 core (like AVR's) answers an empty input range with -1. */
	if (in_max == in_min)
		return -1;
	return (x - in_min) * (out_max - out_min) / (in_max - in_min) + out_min;
}

char *dtostrf(double val, signed char width, unsigned char prec, char *sout)
{
	char fmt[20];

	/* avr-libc: a negative width left-aligns; the caller sized the buffer. */
	snprintf(fmt, sizeof(fmt), "%%%d.%uf", (int)width, (unsigned)prec);
	sprintf(sout, fmt, val);
	return sout;
}

static char *format_unsigned(unsigned long v, char *str, int base, bool negative)
{
	char tmp[sizeof(unsigned long) * 8 + 2];
	int n = 0, i = 0;

	if (base < 2 || base > 36) {
		*str = '\0';
		return str;
	}
	do {
		int d = (int)(v % (unsigned long)base);
		tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= (unsigned long)base;
	} while (v);
	if (negative)
		str[i++] = '-';
	while (n)
		str[i++] = tmp[--n];
	str[i] = '\0';
	return str;
}

char *ltoa(long value, char *str, int base)
{
	/* The ESP32 core's ltoa keeps the sign in every base; itoa (newlib's)
	 * only in decimal. */
	if (value < 0)
		return format_unsigned(0UL - (unsigned long)value, str, base, true);
	return format_unsigned((unsigned long)value, str, base, false);
}

char *itoa(int value, char *str, int base)
{
	if (base != 10)
		return format_unsigned((unsigned int)value, str, base, false);
	return ltoa(value, str, base);
}

char *utoa(unsigned int value, char *str, int base)
{
	return format_unsigned(value, str, base, false);
}

char *ultoa(unsigned long value, char *str, int base)
{
	return format_unsigned(value, str, base, false);
}
