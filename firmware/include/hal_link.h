/* HAL: the network link (WiFi association, or an Ethernet/OS interface). */
#ifndef HAL_LINK_H
#define HAL_LINK_H

enum hal_link_state {
	HAL_LINK_DOWN,
	HAL_LINK_CONNECTING,
	HAL_LINK_UP,
};

/*
 * Start one association attempt; does not block. Progress is reported by
 * hal_link_get_state(). Returns 0, -EALREADY if already up or connecting,
 * or -EIO if the radio refused the request.
 */
int hal_link_connect(void);

/* Current state. Cannot fail. */
enum hal_link_state hal_link_get_state(void);

/*
 * Signal strength in dBm. Returns 0, -ENOTCONN when the link is down, or
 * -ENODATA when the link has no signal strength (a wired interface).
 */
int hal_link_get_rssi(int *rssi_dbm);

/* Drop the association. Returns 0; dropping a down link is not an error. */
int hal_link_disconnect(void);

#endif /* HAL_LINK_H */
