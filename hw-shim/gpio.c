/*
 * hal_gpio for the host: virtual pins with sensor models on them.
 * The line level is what the host drives, else what the model drives, else
 * the pull-up (or low for a floating input, as a pull-down would give).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "hal_gpio.h"
#include "shim.h"
#include "shim_internal.h"

struct vpin {
	enum hal_gpio_mode mode;
	int out_level;
	const struct shim_pin_model *model;
};

static struct vpin pins[SHIM_GPIO_PINS];
static uint32_t irq_depth;

void shim_gpio_reset(void)
{
	memset(pins, 0, sizeof(pins));
	for (unsigned int i = 0; i < SHIM_GPIO_PINS; i++)
		pins[i].mode = HAL_GPIO_INPUT;
	irq_depth = 0;
}

int shim__gpio_attach(unsigned int pin, const struct shim_pin_model *model)
{
	if (pin >= SHIM_GPIO_PINS || pins[pin].model)
		return -EINVAL;
	pins[pin].model = model;
	return 0;
}

static void notify(unsigned int pin)
{
	const struct vpin *p = &pins[pin];
	int level = p->mode == HAL_GPIO_OUTPUT ? p->out_level : -1;

	if (p->model && p->model->on_host_drive)
		p->model->on_host_drive(p->model->self, pin, level, shim_clock_now_us());
}

int hal_gpio_set_mode(unsigned int pin, enum hal_gpio_mode mode)
{
	if (pin >= SHIM_GPIO_PINS || mode > HAL_GPIO_OUTPUT)
		return -EINVAL;
	shim__clock_advance(0);
	if (pins[pin].mode != mode) {
		pins[pin].mode = mode;
		notify(pin);
	}
	return 0;
}

int hal_gpio_write(unsigned int pin, int level)
{
	if (pin >= SHIM_GPIO_PINS || pins[pin].mode != HAL_GPIO_OUTPUT)
		return -EINVAL;
	shim__clock_advance(0);
	level = level ? 1 : 0;
	if (pins[pin].out_level != level) {
		pins[pin].out_level = level;
		notify(pin);
	}
	return 0;
}

int hal_gpio_read(unsigned int pin)
{
	const struct vpin *p;
	int level = -1;

	if (pin >= SHIM_GPIO_PINS)
		return -EINVAL;
	p = &pins[pin];
	/* Each poll costs the driver a little time, as on real silicon. */
	shim__clock_advance(SHIM_POLL_COST_US);
	if (p->mode == HAL_GPIO_OUTPUT)
		return p->out_level;
	if (p->model && p->model->level)
		level = p->model->level(p->model->self, pin, shim_clock_now_us());
	if (level >= 0)
		return level;
	return p->mode == HAL_GPIO_INPUT_PULLUP ? 1 : 0;
}

uint32_t hal_irq_save(void)
{
	/* One thread, no interrupts: only the nesting depth matters. */
	return irq_depth++;
}

void hal_irq_restore(uint32_t state)
{
	irq_depth = state;
}
