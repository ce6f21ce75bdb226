/* robot-stm32f4: the robofleet firmware on a bare-metal STM32F4 with an ESP-AT module. */
#include <stdio.h>

#include "board.h"
#include "hal_log.h"
#include "robot.h"

#ifndef ROBOFLEET_VERSION
#define ROBOFLEET_VERSION "0.0.0"
#endif

int main(void);
int main(void)
{
	char buf[120];
	int rc;

	stm32_clock_init();
	stm32_time_init();
	stm32_uart_init(STM32_UART_CONSOLE, 115200);
	stm32_flash_init(stm32_clock.emulated);
	rc = stm32_storage_init();
	stm32_config_load();
	snprintf(buf, sizeof(buf), "\r\nrobofleet robot-stm32f4 " ROBOFLEET_VERSION
		 ", clock %lu MHz (%s), storage %s gen %lu%s\r\n",
		 (unsigned long)(stm32_clock.sysclk_hz / 1000000u), stm32_clock.source,
		 stm32_flash.emulated ? "in RAM" : "in flash",
		 (unsigned long)stm32_storage_generation(), rc < 0 ? " (UNUSABLE)" : "");
	stm32_console_puts(buf);
	stm32_esp_init();
	rc = robot_main();
	snprintf(buf, sizeof(buf), "robot stopped (%d); console still answers\r\n", rc);
	stm32_console_puts(buf);
	for (;;) {
		stm32_console_poll();
		__asm volatile("wfi");
	}
}
