/*
 * hal_link for the host: a WiFi association that takes a configurable time
 * and then stays up. Faults that drop it arrive with the world file.
 */
#include <errno.h>
#include <stdint.h>

#include "hal_link.h"
#include "shim.h"
#include "shim_internal.h"

static enum hal_link_state state = HAL_LINK_DOWN;
static uint64_t up_at_us = UINT64_MAX;
static uint32_t association_ms = 50;

void shim__link_setup(uint32_t delay_ms)
{
	association_ms = delay_ms;
	state = HAL_LINK_DOWN;
	up_at_us = UINT64_MAX;
}

static void advance(void)
{
	if (state == HAL_LINK_CONNECTING && shim_clock_now_us() >= up_at_us) {
		state = HAL_LINK_UP;
		up_at_us = UINT64_MAX;
	}
}

uint64_t shim__link_next_event_us(void)
{
	return state == HAL_LINK_CONNECTING ? up_at_us : UINT64_MAX;
}

int hal_link_connect(void)
{
	advance();
	if (state != HAL_LINK_DOWN)
		return -EALREADY;
	state = HAL_LINK_CONNECTING;
	up_at_us = shim_clock_now_us() + (uint64_t)association_ms * 1000u;
	return 0;
}

enum hal_link_state hal_link_get_state(void)
{
	advance();
	return state;
}

int hal_link_get_rssi(int *rssi_dbm)
{
	advance();
	if (state != HAL_LINK_UP)
		return -ENOTCONN;
	*rssi_dbm = -55;
	return 0;
}

int hal_link_disconnect(void)
{
	state = HAL_LINK_DOWN;
	up_at_us = UINT64_MAX;
	return 0;
}
