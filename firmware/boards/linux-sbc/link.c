/*
 * hal_link for Linux: the OS (wpa_supplicant, NetworkManager, systemd-
 * networkd) owns the WiFi association; the board only watches it.
 *
 *   <sysfs>/class/net/<iface>/operstate   up, unknown       -> UP
 *                                          dormant           -> CONNECTING
 *                                          anything else     -> DOWN
 *   /proc/net/wireless                     "<iface>: status link level noise ..."
 *
 * "unknown" counts as up: drivers that do not track carrier (lo, some USB
 * adapters, tun) report it while they carry traffic.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board.h"
#include "hal_link.h"

static char operstate_path[SBC_PATH_MAX + SBC_NAME_MAX + 32];
static char wireless_path[SBC_PATH_MAX];
static char iface[SBC_NAME_MAX];

void sbc__link_setup(const struct sbc_settings *s)
{
	snprintf(operstate_path, sizeof(operstate_path), "%s/class/net/%s/operstate",
		 s->sysfs_root, s->net_iface);
	snprintf(wireless_path, sizeof(wireless_path), "%s", s->wireless_path);
	snprintf(iface, sizeof(iface), "%s", s->net_iface);
}

enum hal_link_state hal_link_get_state(void)
{
	char buf[32];
	ssize_t n;
	int fd = open(operstate_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return HAL_LINK_DOWN;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return HAL_LINK_DOWN;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (strcmp(buf, "up") == 0 || strcmp(buf, "unknown") == 0)
		return HAL_LINK_UP;
	if (strcmp(buf, "dormant") == 0)
		return HAL_LINK_CONNECTING;
	return HAL_LINK_DOWN;
}

int hal_link_connect(void)
{
	/* Nothing to start: the OS reconnects by itself. Report what it does. */
	return hal_link_get_state() == HAL_LINK_DOWN ? 0 : -EALREADY;
}

int hal_link_disconnect(void)
{
	/* Not ours to take down; the robot only stops using it. */
	return 0;
}

int hal_link_get_rssi(int *rssi_dbm)
{
	char line[256];
	size_t ilen = strlen(iface);
	FILE *f;
	int rc = -ENODATA;

	if (hal_link_get_state() != HAL_LINK_UP)
		return -ENOTCONN;
	if (!(f = fopen(wireless_path, "re")))
		return -ENODATA;
	while (fgets(line, sizeof(line), f)) {
		const char *p = line;
		char *end;
		double level;

		while (*p == ' ')
			p++;
		if (strncmp(p, iface, ilen) != 0 || p[ilen] != ':')
			continue;
		/* "wlan0: 0000   70.  -40.  -256 ..." : status, link, level */
		p += ilen + 1;
		strtol(p, &end, 16);
		strtod(end, &end);
		level = strtod(end, &end);
		/* Old drivers report level as an unsigned byte (216 = -40 dBm). */
		if (level > 63)
			level -= 256;
		*rssi_dbm = (int)level;
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}
