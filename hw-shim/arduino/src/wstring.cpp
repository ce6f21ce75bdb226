// String: the Arduino text class's conversions, searches and edits.
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "WString.h"

static std::string in_base(unsigned long long v, unsigned char base, bool negative)
{
	char buf[8 * sizeof(v) + 2];
	char *p = &buf[sizeof(buf) - 1];

	if (base < 2 || base > 36)
		base = 10;
	*p = '\0';
	do {
		int d = (int)(v % base);
		*--p = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	if (negative)
		*--p = '-';
	return p;
}

static std::string signed_in_base(long long v, unsigned char base)
{
	/* Like the core's ltoa and lltoa: the sign in front in every base
	 * (String(int) goes through newlib's itoa instead, below). */
	if (v < 0)
		return in_base(0ULL - (unsigned long long)v, base, true);
	return in_base((unsigned long long)v, base, false);
}

static std::string decimals(double v, unsigned int places)
{
	char buf[320]; /* the integer part of the largest double */

	if (isnan(v))
		return "nan";
	if (isinf(v))
		return v < 0 ? "-inf" : "inf";
	if (places > 20)
		places = 20;
	/* As the core's dtostrf and printFloat: add half a unit of the last
	 * place, then cut the digits off, so an exact half rounds up (0.125
	 * with 2 places is 0.13) where printf would round it to even. */
	std::string out = v < 0 ? "-" : "";
	double rounding = 0.5;
	if (v < 0)
		v = -v;
	for (unsigned int i = 0; i < places; i++)
		rounding /= 10.0;
	v += rounding;
	double whole = floor(v);
	double rest = v - whole;
	snprintf(buf, sizeof(buf), "%.0f", whole);
	out += buf;
	if (places)
		out += '.';
	while (places--) {
		rest *= 10.0;
		int d = (int)rest;
		if (d > 9)
			d = 9;
		out += (char)('0' + d);
		rest -= d;
	}
	return out;
}

String::String(unsigned char v, unsigned char base) : s_(in_base(v, base, false)) {}
String::String(int v, unsigned char base)
	: s_(base == 10 ? signed_in_base(v, base) : in_base((unsigned int)v, base, false))
{
}
String::String(unsigned int v, unsigned char base) : s_(in_base(v, base, false)) {}
String::String(long v, unsigned char base) : s_(signed_in_base(v, base)) {}
String::String(unsigned long v, unsigned char base) : s_(in_base(v, base, false)) {}
String::String(long long v, unsigned char base) : s_(signed_in_base(v, base)) {}
String::String(unsigned long long v, unsigned char base) : s_(in_base(v, base, false)) {}
String::String(float v, unsigned int places) : s_(decimals(v, places)) {}
String::String(double v, unsigned int places) : s_(decimals(v, places)) {}

bool String::equalsIgnoreCase(const String &s) const
{
	return s_.size() == s.s_.size() && strcasecmp(s_.c_str(), s.s_.c_str()) == 0;
}

bool String::startsWith(const String &prefix, unsigned int offset) const
{
	return offset <= s_.size() && s_.compare(offset, prefix.s_.size(), prefix.s_) == 0 &&
	       s_.size() - offset >= prefix.s_.size();
}

bool String::endsWith(const String &suffix) const
{
	return s_.size() >= suffix.s_.size() &&
	       s_.compare(s_.size() - suffix.s_.size(), suffix.s_.size(), suffix.s_) == 0;
}

char &String::operator[](unsigned int index)
{
	static char dummy;

	if (index >= s_.size()) {
		dummy = 0;
		return dummy;
	}
	return s_[index];
}

void String::getBytes(unsigned char *buf, unsigned int bufsize, unsigned int index) const
{
	if (!buf || bufsize == 0)
		return;
	if (index >= s_.size()) {
		buf[0] = 0;
		return;
	}
	size_t n = s_.size() - index;
	if (n > bufsize - 1)
		n = bufsize - 1;
	memcpy(buf, s_.data() + index, n);
	buf[n] = 0;
}

static int found(size_t pos)
{
	return pos == std::string::npos ? -1 : (int)pos;
}

int String::indexOf(char c, unsigned int from) const
{
	return found(s_.find(c, from));
}

int String::indexOf(const String &s, unsigned int from) const
{
	return found(s_.find(s.s_, from));
}

int String::lastIndexOf(char c) const
{
	return found(s_.rfind(c));
}

int String::lastIndexOf(char c, unsigned int from) const
{
	/* The core gives up on a start past the end instead of clipping it. */
	if (from >= s_.size())
		return -1;
	return found(s_.rfind(c, from));
}

int String::lastIndexOf(const String &s) const
{
	return found(s_.rfind(s.s_));
}

int String::lastIndexOf(const String &s, unsigned int from) const
{
	return found(s_.rfind(s.s_, from));
}

String String::substring(unsigned int begin, unsigned int end) const
{
	/* The core swaps a reversed range and clips it to the text. */
	if (begin > end) {
		unsigned int t = begin;
		begin = end;
		end = t;
	}
	if (begin >= s_.size())
		return String();
	if (end > s_.size())
		end = (unsigned int)s_.size();
	return String(s_.substr(begin, end - begin));
}

void String::replace(char find, char with)
{
	for (char &c : s_)
		if (c == find)
			c = with;
}

void String::replace(const String &find, const String &with)
{
	if (find.s_.empty())
		return;
	size_t pos = 0;
	while ((pos = s_.find(find.s_, pos)) != std::string::npos) {
		s_.replace(pos, find.s_.size(), with.s_);
		pos += with.s_.size();
	}
}

void String::remove(unsigned int index, unsigned int count)
{
	if (index >= s_.size())
		return;
	s_.erase(index, count);
}

void String::toLowerCase()
{
	for (char &c : s_)
		c = (char)tolower((unsigned char)c);
}

void String::toUpperCase()
{
	for (char &c : s_)
		c = (char)toupper((unsigned char)c);
}

void String::trim()
{
	size_t b = 0, e = s_.size();

	while (b < e && isspace((unsigned char)s_[b]))
		b++;
	while (e > b && isspace((unsigned char)s_[e - 1]))
		e--;
	s_ = s_.substr(b, e - b);
}

long String::toInt() const
{
	return strtol(s_.c_str(), nullptr, 10);
}

double String::toDouble() const
{
	return strtod(s_.c_str(), nullptr);
}

String operator+(const String &a, const String &b)
{
	String r(a);
	r.concat(b);
	return r;
}

String operator+(const String &a, const char *b)
{
	String r(a);
	r.concat(b);
	return r;
}

String operator+(const char *a, const String &b)
{
	String r(a);
	r.concat(b);
	return r;
}

String operator+(const String &a, char b)
{
	String r(a);
	r.concat(b);
	return r;
}

#define STRING_PLUS(T)                          \
	String operator+(const String &a, T b) \
	{                                       \
		String r(a);                    \
		r.concat(b);                    \
		return r;                       \
	}
STRING_PLUS(int)
STRING_PLUS(unsigned int)
STRING_PLUS(long)
STRING_PLUS(unsigned long)
STRING_PLUS(float)
STRING_PLUS(double)

bool operator==(const char *a, const String &b)
{
	return b.equals(a);
}

bool operator!=(const char *a, const String &b)
{
	return !b.equals(a);
}
