/* Numbers, durations and rates as scenario files write them. */
#define _POSIX_C_SOURCE 200809L /* newlocale, uselocale */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_internal.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Length of "digits[.digits]" at @s with at least one digit, else 0. */
static size_t decimal_len(const char *s)
{
	size_t i = 0, digits = 0;

	while (is_digit(s[i])) {
		i++;
		digits++;
	}
	if (s[i] == '.') {
		i++;
		while (is_digit(s[i])) {
			i++;
			digits++;
		}
	}
	return digits ? i : 0;
}

/* strtod in the C locale: a "22.5" must not turn into 22 because the
 * process runs under a locale that writes decimal commas. The caller has
 * already checked the syntax, so all that can go wrong is the range. */
static int c_strtod(const char *s, size_t len, double *v)
{
	char buf[64];
	locale_t c, old;
	char *end;
	double d;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL; /* nobody writes 60 digits by hand */
	memcpy(buf, s, len);
	buf[len] = '\0';
	c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (c == (locale_t)0)
		return -ENOMEM;
	old = uselocale(c);
	errno = 0;
	d = strtod(buf, &end);
	uselocale(old);
	freelocale(c);
	if (end == buf || *end != '\0' || !isfinite(d) || (errno == ERANGE && fabs(d) > 1.0))
		return -EINVAL;
	*v = d;
	return 0;
}

int scenario__parse_number(const char *s, double *v)
{
	size_t i = 0, n;

	if (!s)
		return -EINVAL;
	if (s[i] == '-' || s[i] == '+')
		i++;
	n = decimal_len(s + i);
	if (n == 0)
		return -EINVAL;
	i += n;
	if (s[i] == 'e' || s[i] == 'E') {
		size_t j = i + 1;

		if (s[j] == '-' || s[j] == '+')
			j++;
		if (!is_digit(s[j]))
			return -EINVAL;
		while (is_digit(s[j]))
			j++;
		i = j;
	}
	if (s[i] != '\0')
		return -EINVAL;
	return c_strtod(s, i, v);
}

/* Units from largest to smallest: a duration lists them in that order. */
static const struct {
	const char *name;
	double ms;
	unsigned rank;
} units[] = {
	{ "h", 3600000.0, 1 },
	{ "min", 60000.0, 2 },
	{ "m", 60000.0, 2 },
	{ "s", 1000.0, 3 },
	{ "ms", 1.0, 4 },
};

int scenario_parse_duration_ms(const char *s, uint32_t *ms)
{
	double total = 0;
	unsigned last_rank = 0;

	if (!s || !*s)
		return -EINVAL;
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	while (*s) {
		size_t n = decimal_len(s), u, best = 0, best_len = 0;
		double v;

		if (n == 0 || c_strtod(s, n, &v) < 0)
			return -EINVAL;
		s += n;
		/* Longest unit name that fits, so "ms" is not "m" then "s". */
		for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
			size_t l = strlen(units[u].name);

			if (strncmp(s, units[u].name, l) == 0 && l > best_len) {
				best = u;
				best_len = l;
			}
		}
		if (best_len == 0)
			return -EINVAL;
		/* Each unit at most once, largest first: "1m30s", not "30s1m". */
		if (units[best].rank <= last_rank)
			return -EINVAL;
		last_rank = units[best].rank;
		total += v * units[best].ms;
		s += best_len;
	}
	total = nearbyint(total);
	if (!(total <= 4294967295.0))
		return -EINVAL;
	*ms = (uint32_t)total;
	return 0;
}

int scenario_parse_rate(const char *s, double *per_s)
{
	const char *slash;
	double v, scale = 1.0;
	size_t n;

	if (!s || !*s)
		return -EINVAL;
	slash = strchr(s, '/');
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (decimal_len(s) != n || c_strtod(s, n, &v) < 0)
		return -EINVAL;
	if (slash) {
		const char *u = slash + 1;

		if (strcmp(u, "s") == 0)
			scale = 1.0;
		else if (strcmp(u, "m") == 0 || strcmp(u, "min") == 0)
			scale = 1.0 / 60.0;
		else if (strcmp(u, "h") == 0)
			scale = 1.0 / 3600.0;
		else
			return -EINVAL;
	}
	*per_s = v * scale;
	return 0;
}
