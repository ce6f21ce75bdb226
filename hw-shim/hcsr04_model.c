/*
 * An HC-SR04 on two virtual pins. A trigger pulse of at least 10 us starts a
 * ping; after the 8-cycle burst the echo line goes high for the round trip
 * of sound (343 m/s, about 58 us per cm). Beyond about 4.5 m, or when told
 * so, the module hears nothing and holds echo high for 38 ms.
 */
#include <math.h>
#include <string.h>

#include "shim.h"
#include "shim_internal.h"

#define TRIGGER_MIN_US 10
#define BURST_US 450          /* 8 x 25 us burst plus module latency */
#define NO_ECHO_US 38000
#define HEARING_LIMIT_MM 4500

struct hcsr04_model {
	const struct shim_env *env;
	uint64_t noise_state;
	enum shim_sonar_fault fault;
	unsigned int trig_pin, echo_pin;
	bool trig_high;
	uint64_t trig_since_us;
	uint64_t echo_rise_us;
	uint64_t echo_width_us;
	bool pinging;
};

static struct hcsr04_model sonar;

static uint64_t echo_width_us(struct hcsr04_model *m)
{
	double cm = m->env->distance_cm;
	double mm;

	if (m->env->noise > 0)
		cm += m->env->noise * shim_random_gauss(&m->noise_state);
	mm = cm * 10.0;
	if (m->fault == SHIM_SONAR_NO_ECHO || mm > HEARING_LIMIT_MM || mm < 0)
		return NO_ECHO_US;
	/* distance_mm = echo_us * 343 / 2000, the driver's inverse. */
	return (uint64_t)llround(mm * 2000.0 / 343.0);
}

static void on_host_drive(void *self, unsigned int pin, int level, uint64_t t_us)
{
	struct hcsr04_model *m = self;

	if (pin != m->trig_pin)
		return;
	if (level == 1) {
		m->trig_high = true;
		m->trig_since_us = t_us;
		return;
	}
	if (m->trig_high && t_us - m->trig_since_us >= TRIGGER_MIN_US &&
	    m->fault != SHIM_SONAR_SILENT) {
		m->echo_rise_us = t_us + BURST_US;
		m->echo_width_us = echo_width_us(m);
		m->pinging = true;
	}
	m->trig_high = false;
}

static int level_at(void *self, unsigned int pin, uint64_t t_us)
{
	struct hcsr04_model *m = self;

	if (pin != m->echo_pin)
		return -1; /* the trigger is an input of the module */
	if (m->fault == SHIM_SONAR_STUCK_HIGH)
		return 1;
	if (!m->pinging || t_us < m->echo_rise_us)
		return 0;
	if (t_us < m->echo_rise_us + m->echo_width_us)
		return 1;
	m->pinging = false;
	return 0;
}

static const struct shim_pin_model sonar_pin_model = {
	.on_host_drive = on_host_drive,
	.level = level_at,
	.self = &sonar,
};

int shim_hcsr04_attach(unsigned int trig_pin, unsigned int echo_pin,
		       const struct shim_env *env, uint64_t seed)
{
	int rc;

	memset(&sonar, 0, sizeof(sonar));
	sonar.env = env;
	sonar.trig_pin = trig_pin;
	sonar.echo_pin = echo_pin;
	sonar.noise_state = seed ^ 0x50a4ull;
	if ((rc = shim__gpio_attach(trig_pin, &sonar_pin_model)) < 0)
		return rc;
	return shim__gpio_attach(echo_pin, &sonar_pin_model);
}

void shim_hcsr04_set_fault(enum shim_sonar_fault fault)
{
	sonar.fault = fault;
}
