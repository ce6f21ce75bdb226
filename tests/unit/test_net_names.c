/* Unit tests of the virtual network: the name table, where connections lead, the access point. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "net_names.h"

static struct shim_net net;

static int setup(void **state)
{
	(void)state;
	shim_net_defaults(&net);
	shim_net_set(&net);
	return 0;
}

static void add(const char *spec)
{
	char err[256] = "";

	if (shim_net_add_dns(&net, spec, err, sizeof(err)) != 0)
		fail_msg("'%s' refused: %s", spec, err);
}

/* The error for @spec, which must be refused. */
static const char *refused(const char *spec)
{
	static char err[256];

	err[0] = '\0';
	assert_int_equal(shim_net_add_dns(&net, spec, err, sizeof(err)), -EINVAL);
	assert_true(err[0] != '\0');
	return err;
}

/* Where @name:@port leads, as "ADDRESS:PORT" ("[v6]:PORT"), or the error code. */
static const char *where(const char *name, uint16_t port)
{
	static char buf[INET6_ADDRSTRLEN + 16];
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char a[INET6_ADDRSTRLEN];
	int rc = shim_net_resolve(name, port, &ss, &len);

	if (rc < 0) {
		snprintf(buf, sizeof(buf), "%s", rc == -ENOENT ? "ENOENT" : rc == -EINVAL ?
			 "EINVAL" : "other");
		return buf;
	}
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)&ss;

		assert_int_equal(len, sizeof(*s));
		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(buf, sizeof(buf), "%s:%u", a, (unsigned)ntohs(s->sin_port));
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&ss;

		assert_int_equal(ss.ss_family, AF_INET6);
		assert_int_equal(len, sizeof(*s));
		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(buf, sizeof(buf), "[%s]:%u", a, (unsigned)ntohs(s->sin6_port));
	}
	return buf;
}

static void use_broker(const char *host, uint16_t port)
{
	snprintf(net.broker_host, sizeof(net.broker_host), "%s", host);
	net.broker_port = port;
}

static void test_net_names_defaults(void **state)
{
	const struct shim_net *n = shim_net_get();

	(void)state;
	assert_string_equal(n->broker_host, "127.0.0.1");
	assert_int_equal(n->broker_port, 1883);
	assert_false(n->ap_set);
	assert_int_equal(n->default_action, SHIM_DNS_BROKER);
	assert_int_equal(n->n_entries, 0);
	/* The tutorial's public broker leads to the local one. */
	assert_string_equal(where("broker.hivemq.com", 1883), "127.0.0.1:1883");
}

static void test_net_names_add_dns_forms(void **state)
{
	(void)state;
	add("broker.hivemq.com=broker");
	add("gone.example.com=nxdomain");
	add("api.example.com=127.0.0.2");
	add("ingest.example.com=127.0.0.3:8080");
	add("v6.example.com=[::1]:9000");
	add("v6bare.example.com=[::1]");
	add("dotted.example.com.=localhost");
	add("192.168.1.10=broker");
	add("fe80::1=nxdomain");
	add("_mqtt._tcp.example.com=broker");
	add("upper.example.com=NXDomain"); /* a host name "broker" would be the keyword anyway */
	assert_int_equal(net.n_entries, 11);
	assert_int_equal(net.entries[10].action, SHIM_DNS_NXDOMAIN);
	assert_string_equal(net.entries[0].name, "broker.hivemq.com");
	assert_int_equal(net.entries[0].action, SHIM_DNS_BROKER);
	assert_int_equal(net.entries[1].action, SHIM_DNS_NXDOMAIN);
	assert_int_equal(net.entries[2].action, SHIM_DNS_ADDRESS);
	assert_string_equal(net.entries[2].host, "127.0.0.2");
	assert_int_equal(net.entries[2].port, 0);
	assert_string_equal(net.entries[3].host, "127.0.0.3");
	assert_int_equal(net.entries[3].port, 8080);
	assert_string_equal(net.entries[4].host, "::1");
	assert_int_equal(net.entries[4].port, 9000);
	assert_string_equal(net.entries[5].host, "::1");
	assert_int_equal(net.entries[5].port, 0);
	/* The trailing dot is not part of the name. */
	assert_string_equal(net.entries[6].name, "dotted.example.com");
	assert_string_equal(net.entries[6].host, "localhost");
}

static void test_net_names_add_dns_rejects(void **state)
{
	char name[300];

	(void)state;
	assert_non_null(strstr(refused("broker.hivemq.com"), "NAME=TARGET"));
	assert_non_null(strstr(refused(""), "NAME=TARGET"));
	assert_non_null(strstr(refused("=broker"), "no NAME"));
	assert_non_null(strstr(refused("bad name=broker"), "not a host name"));
	assert_non_null(strstr(refused("a..b=broker"), "not a host name"));
	assert_non_null(strstr(refused(".a=broker"), "not a host name"));
	assert_non_null(strstr(refused("a/b=broker"), "not a host name"));
	assert_non_null(strstr(refused("x=="), "not broker, nxdomain"));
	assert_non_null(strstr(refused("x="), "no target"));
	assert_non_null(strstr(refused("x=host:0"), "1-65535"));
	assert_non_null(strstr(refused("x=host:65536"), "1-65535"));
	assert_non_null(strstr(refused("x=host:80a"), "1-65535"));
	assert_non_null(strstr(refused("x=host:"), "1-65535"));
	assert_non_null(strstr(refused("x=::1"), "brackets"));
	assert_non_null(strstr(refused("x=[::1"), "[ADDRESS]"));
	assert_non_null(strstr(refused("x=[nonsense]:80"), "[ADDRESS]"));
	assert_non_null(strstr(refused("x=[::1]80"), "port"));
	assert_non_null(strstr(refused("x=a b"), "not broker, nxdomain"));
	memset(name, 'a', sizeof(name));
	name[64] = '\0';
	strcat(name, "=broker");
	assert_non_null(strstr(refused(name), "not a host name")); /* a label over 63 */
	assert_int_equal(net.n_entries, 0);

	/* Once per name, whatever its case and trailing dot. */
	add("Broker.HiveMQ.com=broker");
	assert_non_null(strstr(refused("broker.hivemq.com.=nxdomain"), "twice"));
	assert_int_equal(net.n_entries, 1);
	assert_int_equal(shim_net_add_dns(NULL, "a=broker", NULL, 0), -EINVAL);
	assert_int_equal(shim_net_add_dns(&net, NULL, NULL, 0), -EINVAL);
}

static void test_net_names_table_full(void **state)
{
	char spec[64];

	(void)state;
	for (int i = 0; i < SHIM_DNS_ENTRIES_MAX; i++) {
		snprintf(spec, sizeof(spec), "host%d.example.com=broker", i);
		add(spec);
	}
	assert_non_null(strstr(refused("one.more.example.com=broker"), "more than 32"));
	assert_int_equal(net.n_entries, SHIM_DNS_ENTRIES_MAX);
}

static void test_net_names_broker_port(void **state)
{
	(void)state;
	use_broker("127.0.0.1", 40000);
	shim_net_set(&net);
	/* MQTT and MQTT over TLS reach the broker's own port; others keep theirs. */
	assert_string_equal(where("broker.hivemq.com", 1883), "127.0.0.1:40000");
	assert_string_equal(where("broker.hivemq.com", 8883), "127.0.0.1:40000");
	assert_string_equal(where("broker.hivemq.com", 80), "127.0.0.1:80");
	assert_string_equal(where("anything.at.all", 1883), "127.0.0.1:40000");
	use_broker("::1", 40001);
	shim_net_set(&net);
	assert_string_equal(where("broker.hivemq.com", 1883), "[::1]:40001");
	use_broker("localhost", 40002);
	shim_net_set(&net);
	assert_non_null(strstr(where("broker.hivemq.com", 1883), ":40002"));
}

static void test_net_names_entry_wins(void **state)
{
	(void)state;
	use_broker("127.0.0.1", 40000);
	net.default_action = SHIM_DNS_NXDOMAIN;
	add("broker.hivemq.com=broker");
	add("gone.example.com=nxdomain");
	shim_net_set(&net);
	assert_string_equal(where("broker.hivemq.com", 1883), "127.0.0.1:40000");
	assert_string_equal(where("gone.example.com", 1883), "ENOENT");
	assert_string_equal(where("other.example.com", 1883), "ENOENT");

	net.default_action = SHIM_DNS_BROKER;
	shim_net_set(&net);
	assert_string_equal(where("gone.example.com", 1883), "ENOENT");
	assert_string_equal(where("other.example.com", 1883), "127.0.0.1:40000");
}

static void test_net_names_address_entries(void **state)
{
	const char *s;

	(void)state;
	use_broker("127.0.0.1", 40000);
	add("api.example.com=127.0.0.2");
	add("ingest.example.com=127.0.0.3:8080");
	add("v6.example.com=[::1]:9000");
	add("local.example.com=localhost:7000");
	shim_net_set(&net);
	/* An address is where the name leads: no broker port mapping. */
	assert_string_equal(where("api.example.com", 1883), "127.0.0.2:1883");
	assert_string_equal(where("api.example.com", 443), "127.0.0.2:443");
	assert_string_equal(where("ingest.example.com", 80), "127.0.0.3:8080");
	assert_string_equal(where("v6.example.com", 1883), "[::1]:9000");
	/* A real name goes through the machine's resolver. */
	s = where("local.example.com", 1883);
	assert_true(strcmp(s, "127.0.0.1:7000") == 0 || strcmp(s, "[::1]:7000") == 0);
}

static void test_net_names_case_and_trailing_dot(void **state)
{
	(void)state;
	net.default_action = SHIM_DNS_NXDOMAIN;
	add("broker.hivemq.com.=127.0.0.9");
	shim_net_set(&net);
	assert_string_equal(where("broker.hivemq.com", 1883), "127.0.0.9:1883");
	assert_string_equal(where("BROKER.HiveMQ.Com", 1883), "127.0.0.9:1883");
	assert_string_equal(where("broker.hivemq.com.", 1883), "127.0.0.9:1883");
	assert_string_equal(where("broker.hivemq.co", 1883), "ENOENT");
}

static void test_net_names_ip_literals(void **state)
{
	(void)state;
	use_broker("127.0.0.1", 40000);
	shim_net_set(&net);
	/* Loopback goes where it says, port and all... */
	assert_string_equal(where("127.0.0.2", 1883), "127.0.0.2:1883");
	assert_string_equal(where("127.0.0.1", 8080), "127.0.0.1:8080");
	/* ...but the broker's own address on an MQTT port is the broker (what
	 * WiFi.hostByName() answered, used with the port a sketch hard-codes). */
	assert_string_equal(where("127.0.0.1", 1883), "127.0.0.1:40000");
	assert_string_equal(where("127.0.0.1", 8883), "127.0.0.1:40000");
	assert_string_equal(where("127.1.2.3", 8080), "127.1.2.3:8080");
	assert_string_equal(where("::1", 1883), "[::1]:1883");
	assert_string_equal(where("::ffff:127.0.0.1", 1883), "[::ffff:127.0.0.1]:1883");
	/* A sketch's hard-coded LAN broker reaches the run's broker. */
	assert_string_equal(where("192.168.1.10", 1883), "127.0.0.1:40000");
	assert_string_equal(where("10.0.0.2", 8080), "127.0.0.1:8080");
	assert_string_equal(where("2001:db8::1", 1883), "127.0.0.1:40000");

	net.default_action = SHIM_DNS_NXDOMAIN;
	add("192.168.1.20=broker");
	shim_net_set(&net);
	assert_string_equal(where("192.168.1.10", 1883), "ENOENT");
	assert_string_equal(where("192.168.1.20", 1883), "127.0.0.1:40000");
	assert_string_equal(where("127.0.0.1", 1883), "127.0.0.1:40000");
	assert_string_equal(where("127.0.0.3", 1883), "127.0.0.3:1883");
}

static void test_net_names_bad_names(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char big[400];

	(void)state;
	assert_string_equal(where("", 1883), "EINVAL");
	assert_int_equal(shim_net_resolve(NULL, 1883, &ss, &len), -EINVAL);
	assert_int_equal(shim_net_resolve("a.example", 1883, NULL, &len), -EINVAL);
	assert_int_equal(shim_net_resolve("a.example", 1883, &ss, NULL), -EINVAL);
	/* Nothing a resolver would answer reaches the broker. */
	assert_string_equal(where(".", 1883), "ENOENT");
	assert_string_equal(where("a b", 1883), "ENOENT");
	assert_string_equal(where("a..b", 1883), "ENOENT");
	assert_string_equal(where("http://broker", 1883), "ENOENT");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_string_equal(where(big, 1883), "ENOENT");
}

static void test_net_names_set_copies(void **state)
{
	(void)state;
	add("a.example.com=nxdomain");
	shim_net_set(&net);
	net.n_entries = 0;
	assert_int_equal(shim_net_get()->n_entries, 1);
	assert_string_equal(where("a.example.com", 1883), "ENOENT");
	shim_net_set(NULL); /* harmless */
	assert_int_equal(shim_net_get()->n_entries, 1);
}

static void test_net_names_ap_check(void **state)
{
	(void)state;
	/* No access point set: any SSID and password associate. */
	assert_int_equal(shim_net_ap_check("YOUR_WIFI_SSID", "YOUR_WIFI_PASSWORD"), 0);
	assert_int_equal(shim_net_ap_check("x", NULL), 0);
	assert_int_equal(shim_net_ap_check("", "x"), -ENOENT);
	assert_int_equal(shim_net_ap_check(NULL, "x"), -ENOENT);

	net.ap_set = true;
	snprintf(net.ssid, sizeof(net.ssid), "lab-wifi");
	snprintf(net.password, sizeof(net.password), "correct horse");
	shim_net_set(&net);
	assert_int_equal(shim_net_ap_check("lab-wifi", "correct horse"), 0);
	assert_int_equal(shim_net_ap_check("lab-wifi", "wrong"), -EACCES);
	assert_int_equal(shim_net_ap_check("lab-wifi", NULL), -EACCES);
	assert_int_equal(shim_net_ap_check("Lab-WiFi", "correct horse"), -ENOENT);
	assert_int_equal(shim_net_ap_check("YOUR_WIFI_SSID", "correct horse"), -ENOENT);

	/* An open network: no password, or an empty one. */
	net.password[0] = '\0';
	shim_net_set(&net);
	assert_int_equal(shim_net_ap_check("lab-wifi", NULL), 0);
	assert_int_equal(shim_net_ap_check("lab-wifi", ""), 0);
	assert_int_equal(shim_net_ap_check("lab-wifi", "anything"), -EACCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_net_names_defaults, setup),
		cmocka_unit_test_setup(test_net_names_add_dns_forms, setup),
		cmocka_unit_test_setup(test_net_names_add_dns_rejects, setup),
		cmocka_unit_test_setup(test_net_names_table_full, setup),
		cmocka_unit_test_setup(test_net_names_broker_port, setup),
		cmocka_unit_test_setup(test_net_names_entry_wins, setup),
		cmocka_unit_test_setup(test_net_names_address_entries, setup),
		cmocka_unit_test_setup(test_net_names_case_and_trailing_dot, setup),
		cmocka_unit_test_setup(test_net_names_ip_literals, setup),
		cmocka_unit_test_setup(test_net_names_bad_names, setup),
		cmocka_unit_test_setup(test_net_names_set_copies, setup),
		cmocka_unit_test_setup(test_net_names_ap_check, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
