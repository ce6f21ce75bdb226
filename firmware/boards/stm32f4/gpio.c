/* Register-level GPIO for the pin drivers: pin = port * 16 + line (PA0 = 0, PB5 = 21). */
#include <errno.h>

#include "hal_gpio.h"
#include "regs.h"

#define PORTS 5 /* A..E */

/* Which pins are outputs, kept here rather than read back from MODER: one
 * load instead of a peripheral read, and right under QEMU too, which does
 * not model the GPIO ports. */
static uint16_t output_mask[PORTS];

int hal_gpio_set_mode(unsigned int pin, enum hal_gpio_mode mode)
{
	unsigned int port = pin / 16, n = pin % 16;
	uint32_t moder, pupdr;

	if (port >= PORTS)
		return -EINVAL;
	RCC_AHB1ENR |= 1u << port;
	(void)RCC_AHB1ENR;
	moder = GPIO_MODER(port) & ~(3u << (2 * n));
	pupdr = GPIO_PUPDR(port) & ~(3u << (2 * n));
	output_mask[port] &= (uint16_t)~(1u << n);
	switch (mode) {
	case HAL_GPIO_INPUT:
		break;
	case HAL_GPIO_INPUT_PULLUP:
		pupdr |= 1u << (2 * n);
		break;
	case HAL_GPIO_OUTPUT:
		output_mask[port] |= (uint16_t)(1u << n);
		GPIO_OTYPER(port) &= ~(1u << n);
		GPIO_OSPEEDR(port) |= 2u << (2 * n);
		moder |= 1u << (2 * n);
		break;
	default:
		return -EINVAL;
	}
	GPIO_PUPDR(port) = pupdr;
	GPIO_MODER(port) = moder;
	return 0;
}

int hal_gpio_read(unsigned int pin)
{
	if (pin / 16 >= PORTS)
		return -EINVAL;
	return (GPIO_IDR(pin / 16) >> (pin % 16)) & 1u;
}

int hal_gpio_write(unsigned int pin, int level)
{
	unsigned int port = pin / 16, n = pin % 16;

	if (port >= PORTS || !(output_mask[port] & (1u << n)))
		return -EINVAL;
	GPIO_BSRR(port) = level ? 1u << n : 1u << (n + 16);
	return 0;
}

uint32_t hal_irq_save(void)
{
	uint32_t primask;

	__asm volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
	return primask;
}

void hal_irq_restore(uint32_t state)
{
	__asm volatile("msr primask, %0" ::"r"(state) : "memory");
}
