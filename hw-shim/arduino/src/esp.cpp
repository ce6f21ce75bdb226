// ESP: restart as a real reboot (the process starts over, flash kept), and the factory MAC.
#include "Esp.h"

#include <stdio.h>
#include <unistd.h>

#include "runtime.h"
#include "sockets.h"

extern "C" {
#include "hal_log.h"
#include "shim.h"
}

using namespace robofleet_arduino;

EspClass ESP;

namespace robofleet_arduino {
void serial_flush_pending();
}

void EspClass::restart()
{
	const Identity &id = runtime_identity();

	serial_flush_pending();
	hal_log_write(HAL_LOG_INFO, "ESP.restart(): rebooting");
	fflush(stderr);
	/* Everything but the flash starts again: globals, heap, sockets. The
	 * same process id keeps the device's place in the fleet. */
	sockets_close_all();
	shim_fini();
	execv("/proc/self/exe", id.argv);
	perror("robofleet: ESP.restart(): execv");
	_exit(1);
}

uint64_t EspClass::getEfuseMac()
{
	uint8_t mac[6];
	uint64_t v = 0;

	runtime_mac(mac);
	for (int i = 5; i >= 0; i--)
		v = (v << 8) | mac[i];
	return v;
}
