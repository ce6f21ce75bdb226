// pinMode, digitalRead/Write, pulseIn: the shim's virtual pins with the sensor models on them.
#include "Arduino.h"

extern "C" {
#include "hal_gpio.h"
#include "hal_time.h"
}

void pinMode(uint8_t pin, uint8_t mode)
{
	enum hal_gpio_mode m = HAL_GPIO_INPUT;

	if (mode == OUTPUT || mode == OUTPUT_OPEN_DRAIN)
		m = HAL_GPIO_OUTPUT;
	else if (mode == INPUT_PULLUP)
		m = HAL_GPIO_INPUT_PULLUP;
	(void)hal_gpio_set_mode(pin, m);
}

void digitalWrite(uint8_t pin, uint8_t val)
{
	(void)hal_gpio_write(pin, val ? 1 : 0);
}

int digitalRead(uint8_t pin)
{
	int v = hal_gpio_read(pin);

	return v > 0 ? HIGH : LOW;
}

/* The documented behaviour: wait for a previous pulse to end, then for the
 * pulse to start, then measure it; all within @timeout_us, else 0. */
unsigned long pulseIn(uint8_t pin, uint8_t state, unsigned long timeout_us)
{
	int want = state ? 1 : 0;
	uint64_t start = hal_time_now_us(), rise;

	while (hal_gpio_read(pin) == want)
		if (hal_time_now_us() - start > timeout_us)
			return 0;
	while (hal_gpio_read(pin) != want)
		if (hal_time_now_us() - start > timeout_us)
			return 0;
	rise = hal_time_now_us();
	while (hal_gpio_read(pin) == want)
		if (hal_time_now_us() - start > timeout_us)
			return 0;
	return (unsigned long)(hal_time_now_us() - rise);
}

unsigned long pulseInLong(uint8_t pin, uint8_t state, unsigned long timeout_us)
{
	return pulseIn(pin, state, timeout_us);
}

uint16_t analogRead(uint8_t pin)
{
	(void)pin;
	return 0;
}

void analogWrite(uint8_t pin, int value)
{
	(void)pin;
	(void)value;
}

static uint32_t irq_state;

void noInterrupts(void)
{
	irq_state = hal_irq_save();
}

void interrupts(void)
{
	hal_irq_restore(irq_state);
}
