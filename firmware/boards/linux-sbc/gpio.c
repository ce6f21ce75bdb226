/*
 * hal_gpio for Linux: not provided. The sensors are read through the
 * kernel's IIO drivers (sensor.c), so no firmware driver toggles pins here.
 */
#include <errno.h>

#include "hal_gpio.h"

int hal_gpio_set_mode(unsigned int pin, enum hal_gpio_mode mode)
{
	(void)pin;
	(void)mode;
	return -ENOTSUP;
}

int hal_gpio_read(unsigned int pin)
{
	(void)pin;
	return -ENOTSUP;
}

int hal_gpio_write(unsigned int pin, int level)
{
	(void)pin;
	(void)level;
	return -ENOTSUP;
}

uint32_t hal_irq_save(void)
{
	return 0;
}

void hal_irq_restore(uint32_t state)
{
	(void)state;
}
