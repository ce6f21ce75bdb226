// String: the Arduino text class, over std::string (the sketch side may use the heap).
#ifndef ARDUINO_WSTRING_H
#define ARDUINO_WSTRING_H

#include <stddef.h>
#include <stdint.h>

#include <string>

class __FlashStringHelper;
#define F(string_literal) (reinterpret_cast<const __FlashStringHelper *>(string_literal))
#define FPSTR(p) (reinterpret_cast<const __FlashStringHelper *>(p))

#ifndef DEC
#define DEC 10
#define HEX 16
#define OCT 8
#define BIN 2
#endif

class String {
public:
	String() = default;
	String(const char *s) : s_(s ? s : "") {}
	String(const char *s, size_t len) : s_(s ? std::string(s, len) : std::string()) {}
	String(const __FlashStringHelper *s) : String(reinterpret_cast<const char *>(s)) {}
	String(const std::string &s) : s_(s) {}
	String(const String &) = default;
	String(String &&) noexcept = default;
	explicit String(char c) : s_(1, c) {}
	explicit String(unsigned char v, unsigned char base = DEC);
	explicit String(int v, unsigned char base = DEC);
	explicit String(unsigned int v, unsigned char base = DEC);
	explicit String(long v, unsigned char base = DEC);
	explicit String(unsigned long v, unsigned char base = DEC);
	explicit String(long long v, unsigned char base = DEC);
	explicit String(unsigned long long v, unsigned char base = DEC);
	explicit String(float v, unsigned int decimals = 2);
	explicit String(double v, unsigned int decimals = 2);

	String &operator=(const String &) = default;
	String &operator=(String &&) noexcept = default;
	String &operator=(const char *s) { s_ = s ? s : ""; return *this; }

	bool reserve(unsigned int size) { s_.reserve(size); return true; }
	unsigned int length() const { return (unsigned int)s_.size(); }
	bool isEmpty() const { return s_.empty(); }
	const char *c_str() const { return s_.c_str(); }
	char *begin() { return &s_[0]; }
	char *end() { return &s_[0] + s_.size(); }
	const char *begin() const { return s_.c_str(); }
	const char *end() const { return s_.c_str() + s_.size(); }
	explicit operator bool() const { return true; }

	bool concat(const String &s) { s_ += s.s_; return true; }
	bool concat(const char *s) { if (!s) return false; s_ += s; return true; }
	bool concat(const char *s, unsigned int len) { if (!s) return false; s_.append(s, len); return true; }
	bool concat(char c) { s_ += c; return true; }
	bool concat(unsigned char v) { return concat(String(v)); }
	bool concat(int v) { return concat(String(v)); }
	bool concat(unsigned int v) { return concat(String(v)); }
	bool concat(long v) { return concat(String(v)); }
	bool concat(unsigned long v) { return concat(String(v)); }
	bool concat(long long v) { return concat(String(v)); }
	bool concat(unsigned long long v) { return concat(String(v)); }
	bool concat(float v) { return concat(String(v)); }
	bool concat(double v) { return concat(String(v)); }
	bool concat(const __FlashStringHelper *s) { return concat(reinterpret_cast<const char *>(s)); }

	template <typename T> String &operator+=(const T &v) { concat(v); return *this; }
	String &operator+=(const char *s) { concat(s); return *this; }

	int compareTo(const String &s) const { return s_.compare(s.s_); }
	bool equals(const String &s) const { return s_ == s.s_; }
	bool equals(const char *s) const { return s && s_ == s; }
	bool equalsIgnoreCase(const String &s) const;
	bool startsWith(const String &prefix, unsigned int offset = 0) const;
	bool endsWith(const String &suffix) const;
	bool operator==(const String &s) const { return equals(s); }
	bool operator==(const char *s) const { return equals(s); }
	bool operator!=(const String &s) const { return !equals(s); }
	bool operator!=(const char *s) const { return !equals(s); }
	bool operator<(const String &s) const { return compareTo(s) < 0; }
	bool operator>(const String &s) const { return compareTo(s) > 0; }
	bool operator<=(const String &s) const { return compareTo(s) <= 0; }
	bool operator>=(const String &s) const { return compareTo(s) >= 0; }

	char charAt(unsigned int index) const { return index < s_.size() ? s_[index] : 0; }
	void setCharAt(unsigned int index, char c) { if (index < s_.size()) s_[index] = c; }
	char operator[](unsigned int index) const { return charAt(index); }
	char &operator[](unsigned int index);
	void getBytes(unsigned char *buf, unsigned int bufsize, unsigned int index = 0) const;
	void toCharArray(char *buf, unsigned int bufsize, unsigned int index = 0) const
	{
		getBytes(reinterpret_cast<unsigned char *>(buf), bufsize, index);
	}

	int indexOf(char c, unsigned int from = 0) const;
	int indexOf(const String &s, unsigned int from = 0) const;
	int lastIndexOf(char c) const;
	int lastIndexOf(char c, unsigned int from) const;
	int lastIndexOf(const String &s) const;
	int lastIndexOf(const String &s, unsigned int from) const;
	String substring(unsigned int begin) const { return substring(begin, length()); }
	String substring(unsigned int begin, unsigned int end) const;

	void replace(char find, char with);
	void replace(const String &find, const String &with);
	void remove(unsigned int index) { remove(index, (unsigned int)-1); }
	void remove(unsigned int index, unsigned int count);
	void toLowerCase();
	void toUpperCase();
	void trim();

	long toInt() const;
	float toFloat() const { return (float)toDouble(); }
	double toDouble() const;

	const std::string &str() const { return s_; }

private:
	std::string s_;
};

String operator+(const String &a, const String &b);
String operator+(const String &a, const char *b);
String operator+(const char *a, const String &b);
String operator+(const String &a, char b);
String operator+(const String &a, int b);
String operator+(const String &a, unsigned int b);
String operator+(const String &a, long b);
String operator+(const String &a, unsigned long b);
String operator+(const String &a, float b);
String operator+(const String &a, double b);
bool operator==(const char *a, const String &b);
bool operator!=(const char *a, const String &b);

#endif /* ARDUINO_WSTRING_H */
