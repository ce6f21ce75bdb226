/* hal_system, hal_log, hal_random: configuration, the console, shutdown, ids. */
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "hal_gpio.h"
#include "hal_log.h"
#include "hal_random.h"
#include "hal_system.h"
#include "hal_time.h"
#include "regs.h"
#include "robot.h"

static volatile bool shutdown_requested;
static uint32_t rng_state;

void stm32_console_puts(const char *s)
{
	stm32_uart_write(STM32_UART_CONSOLE, s, strlen(s));
}

void stm32_request_shutdown(void)
{
	shutdown_requested = true;
}

void stm32_reboot(void);
void stm32_reboot(void)
{
	SCB_AIRCR = (0x5FAu << 16) | (1u << 2); /* SYSRESETREQ */
	for (;;)
		;
}

int hal_system_load_config(struct robot_config *cfg)
{
	return stm32_config_to_robot(&stm32_config, cfg);
}

bool hal_system_shutdown_requested(void)
{
	return shutdown_requested;
}

void hal_system_report(const struct robot_status *status)
{
	(void)status;
	stm32_console_poll(); /* cheap: a ring read */
}

void hal_log_write(enum hal_log_level level, const char *line)
{
	static const char tag[] = "EWID";
	char head[24];
	uint64_t ms = hal_time_now_us() / 1000u;

	snprintf(head, sizeof(head), "[%6lu.%03lu] %c ", (unsigned long)(ms / 1000u),
		 (unsigned long)(ms % 1000u), tag[level <= HAL_LOG_DEBUG ? level : 0]);
	stm32_console_puts(head);
	stm32_console_puts(line);
	stm32_console_puts("\r\n");
}

enum hal_log_level hal_log_get_level(void)
{
	return (enum hal_log_level)stm32_config.log_level;
}

/* xorshift32 seeded from the unique id and the boot's timing jitter. */
uint32_t hal_random_u32(void)
{
	uint32_t x = rng_state;

	if (x == 0) {
		x = (uint32_t)hal_time_now_us();
		/* QEMU does not map the unique-id area: reading it bus-faults. */
		if (!stm32_clock.emulated)
			x ^= REG32(UID_BASE) ^ REG32(UID_BASE + 4) * 2654435761u ^ REG32(UID_BASE + 8);
		if (x == 0)
			x = 0x9E3779B9u;
	}
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	rng_state = x;
	return x;
}
