// Provisioning: PEM files read whole and bounded, and the factory's NVS namespace "robofleet".
#include "provision.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "Preferences.h"

namespace robofleet_arduino {

bool read_pem_file(const char *path, std::string &out, std::string &err)
{
	FILE *f = fopen(path, "rb");
	char buf[1024];
	size_t n;

	out.clear();
	if (!f) {
		err = std::string("cannot read it: ") + strerror(errno);
		return false;
	}
	/* Read one byte past the limit: a file that grows while it is read
	 * is judged by what was read, never by a size taken before. */
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && out.size() <= PEM_FILE_MAX)
		out.append(buf, n);
	bool failed = ferror(f) != 0;
	int saved = errno;
	fclose(f);
	if (failed) {
		err = std::string("cannot read it: ") + strerror(saved);
		return false;
	}
	if (out.size() > PEM_FILE_MAX) {
		err = "larger than " + std::to_string(PEM_FILE_MAX) + " bytes (a PEM credential)";
		return false;
	}
	if (out.empty()) {
		err = "it is empty";
		return false;
	}
	if (memchr(out.data(), '\0', out.size())) {
		err = "it is not PEM text (DER? openssl x509 -outform PEM converts it)";
		return false;
	}
	return true;
}

/* Put @value under @key if it differs; remove the key for "". */
static bool keep(Preferences &nvs, const char *key, const std::string &value)
{
	if (value.empty())
		return !nvs.isKey(key) || nvs.remove(key);
	if (nvs.getType(key) == PT_STR && nvs.getString(key) == value.c_str())
		return true;
	return nvs.putString(key, value.c_str()) == value.size();
}

bool provision_write(const Provisioning &p)
{
	Preferences nvs;
	bool ok = true;

	if (!nvs.begin("robofleet", false))
		return false;
	if (!p.id.empty() && !(nvs.getType("id") == PT_STR && nvs.getString("id") == p.id.c_str()))
		ok = nvs.putString("id", p.id.c_str()) == p.id.size() && ok;
	if (!p.room.empty() &&
	    !(nvs.getType("room") == PT_STR && nvs.getString("room") == p.room.c_str()))
		ok = nvs.putString("room", p.room.c_str()) == p.room.size() && ok;
	ok = keep(nvs, "mqtt_user", p.mqtt_user) && ok;
	ok = keep(nvs, "mqtt_pass", p.mqtt_pass) && ok;
	ok = keep(nvs, "ca_cert", p.ca_cert) && ok;
	ok = keep(nvs, "client_cert", p.client_cert) && ok;
	ok = keep(nvs, "client_key", p.client_key) && ok;
	nvs.end();
	return ok;
}

} // namespace robofleet_arduino
