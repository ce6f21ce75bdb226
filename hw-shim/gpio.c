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
	int last_read;           /* level the previous read returned */
	unsigned int same_reads; /* reads in a row that returned it */
};

static struct vpin pins[SHIM_GPIO_PINS];
static uint32_t irq_depth;

void shim_gpio_reset(void)
{
	memset(pins, 0, sizeof(pins));
	for (unsigned int i = 0; i < SHIM_GPIO_PINS; i++) {
		pins[i].mode = HAL_GPIO_INPUT;
		pins[i].last_read = -1;
	}
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
	pins[pin].same_reads = 0;
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
	pins[pin].same_reads = 0;
	if (pins[pin].out_level != level) {
		pins[pin].out_level = level;
		notify(pin);
	}
	return 0;
}

/*
 * A driver waiting for an edge polls the pin once per SHIM_POLL_COST_US of
 * virtual time: thousands of polls per echo or DHT frame, most of a robot's
 * CPU. Once it is plainly spinning on a level (the third read in a row that
 * returns it), and the model knows the level holds until a scheduled edge,
 * let the clock run to just before that edge: the next poll sees the edge at
 * the virtual instant the polling would have, so every measured width,
 * timeout and fault is unchanged. The first two reads of a level never
 * jump, so a driver that starts waiting for the level it just saw, or times
 * from the read that saw an edge, sees no skipped time.
 */
static void skip_to_edge(struct vpin *p, unsigned int pin, int level, uint64_t now)
{
	uint64_t until;

	if (level != p->last_read) {
		p->last_read = level;
		p->same_reads = 1;
		return;
	}
	if (++p->same_reads < 3 || !p->model->holds_until)
		return;
	until = p->model->holds_until(p->model->self, pin, now);
	if (until <= now + SHIM_POLL_COST_US)
		return;
	until -= SHIM_POLL_COST_US;
	if (until - now > SHIM_EDGE_SKIP_MAX_US)
		until = now + SHIM_EDGE_SKIP_MAX_US;
	shim__clock_advance((uint32_t)(until - now));
}

int hal_gpio_read(unsigned int pin)
{
	struct vpin *p;
	uint64_t now;
	int level = -1;

	if (pin >= SHIM_GPIO_PINS)
		return -EINVAL;
	p = &pins[pin];
	/* Each poll costs the driver a little time, as on real silicon. */
	shim__clock_advance(SHIM_POLL_COST_US);
	if (p->mode == HAL_GPIO_OUTPUT)
		return p->out_level;
	if (!p->model || !p->model->level)
		return p->mode == HAL_GPIO_INPUT_PULLUP ? 1 : 0;
	now = shim_clock_now_us();
	level = p->model->level(p->model->self, pin, now);
	if (level < 0)
		level = p->mode == HAL_GPIO_INPUT_PULLUP ? 1 : 0;
	skip_to_edge(p, pin, level, now);
	return level;
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
