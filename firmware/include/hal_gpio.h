/* HAL: pin-level digital I/O and the critical-section guard drivers use. */
#ifndef HAL_GPIO_H
#define HAL_GPIO_H

#include <stdint.h>

enum hal_gpio_mode {
	HAL_GPIO_INPUT,        /* high impedance */
	HAL_GPIO_INPUT_PULLUP, /* released open-drain line, pulled high */
	HAL_GPIO_OUTPUT,       /* push-pull driven */
};

/* Returns 0, -EINVAL for an unknown pin or mode, or -ENOTSUP on a board
 * whose sensors are read by the OS rather than by pin (linux-sbc). */
int hal_gpio_set_mode(unsigned int pin, enum hal_gpio_mode mode);

/* Returns 0 (low) or 1 (high), or -EINVAL for an unknown pin. */
int hal_gpio_read(unsigned int pin);

/* Returns 0, or -EINVAL for an unknown pin or a pin not in output mode. */
int hal_gpio_write(unsigned int pin, int level);

/*
 * Disable interrupts (or whatever would disturb microsecond timing) and
 * return the previous state for hal_irq_restore(). Nests. Cannot fail.
 */
uint32_t hal_irq_save(void);
void hal_irq_restore(uint32_t state);

#endif /* HAL_GPIO_H */
