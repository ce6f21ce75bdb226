/* The virtual network a device program sees: its access point and the names its code connects to. */
#ifndef NET_NAMES_H
#define NET_NAMES_H

/*
 * A sketch hard-codes its broker ("broker.hivemq.com", a LAN address) and
 * its WiFi credentials, and the machine a fleet runs on reaches no public
 * broker. So every connection a device program makes goes through
 * shim_net_resolve(), which answers from a table the scenario controls:
 * a name leads to the run's broker, to an address of the scenario's choice,
 * or nowhere; and shim_net_ap_check() plays the one access point in range.
 *
 * Not locked: shim_net_set() is for start-up, before anything resolves.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum shim_dns_action {
	SHIM_DNS_BROKER,        /* the run's broker */
	SHIM_DNS_NXDOMAIN,      /* the name does not exist */
	SHIM_DNS_ADDRESS,       /* the entry's own host and port */
};

struct shim_dns_entry {
	char name[254];         /* as written, without a trailing dot */
	enum shim_dns_action action;
	char host[256];         /* ADDRESS: a numeric address or a real name */
	uint16_t port;          /* ADDRESS: 0: the port asked for */
};

#define SHIM_DNS_ENTRIES_MAX 32
#define SHIM_NET_SSID_MAX 32     /* bytes, as 802.11 allows */
#define SHIM_NET_PASSWORD_MAX 63 /* a WPA2 passphrase; "" is an open network */

struct shim_net {
	char broker_host[256];  /* the run's broker (--broker) */
	uint16_t broker_port;
	bool ap_set;            /* false: any SSID and password associate */
	char ssid[SHIM_NET_SSID_MAX + 1];
	char password[SHIM_NET_PASSWORD_MAX + 1];
	enum shim_dns_action default_action; /* BROKER (default) or NXDOMAIN */
	struct shim_dns_entry entries[SHIM_DNS_ENTRIES_MAX];
	size_t n_entries;
};

/*
 * Add one name to @n: "NAME=broker", "NAME=nxdomain", "NAME=HOST",
 * "NAME=HOST:PORT" or "NAME=[v6]:PORT". NAME is a host name or an IP
 * address; names compare case-insensitively, a trailing dot ignored, and a
 * name may be given once. Returns 0, or -EINVAL with the reason in @err
 * (which does not name the option: callers say where the spec came from).
 */
int shim_net_add_dns(struct shim_net *n, const char *spec, char *err, size_t err_len);

/* @n with nothing set: broker 127.0.0.1:1883, any access point, BROKER by default. */
void shim_net_defaults(struct shim_net *n);

/* Make @n (copied) the process's network. */
void shim_net_set(const struct shim_net *n);
/* The process's network: what shim_net_set() gave, else the defaults. */
const struct shim_net *shim_net_get(void);

/*
 * Where a connection to @name:@port leads, as a socket address for
 * connect(). An explicit entry for @name wins; otherwise the default
 * action. BROKER: the broker's host, and port 1883 or 8883 becomes the
 * broker's port (any other port is kept). ADDRESS: the entry's host
 * (numeric, or a real name resolved with getaddrinfo) and its port if it
 * has one. An IP address written as @name: a loopback address (127.0.0.0/8,
 * ::1) goes where it says, with @port as given; any other address is
 * treated like a name under the default action, so a sketch's hard-coded
 * LAN broker reaches the run's broker. Returns 0 with the address,
 * -ENOENT when the name does not resolve (NXDOMAIN, or getaddrinfo
 * failing), -EINVAL for an empty name or a NULL argument.
 */
int shim_net_resolve(const char *name, uint16_t port, struct sockaddr_storage *out,
		     socklen_t *out_len);

/*
 * Associate with the access point: 0 when @ssid and @password (NULL: "")
 * match it; -ENOENT when no access point has that SSID (the ESP32's
 * WL_NO_SSID_AVAIL; also for an empty or NULL SSID); -EACCES for a wrong
 * password (WL_CONNECT_FAILED). SSID and password compare exactly.
 */
int shim_net_ap_check(const char *ssid, const char *password);

#endif /* NET_NAMES_H */
