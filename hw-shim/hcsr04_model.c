/*
 * An HC-SR04 on two virtual pins. A trigger pulse of at least 10 us starts a
 * ping; after the 8-cycle burst the echo line goes high for the round trip
 * of sound (343 m/s, about 58 us per cm). Beyond about 4.5 m, or when told
 * so, the module hears nothing and holds echo high for 38 ms.
 *
 * Faults come in one fault set (shim__hcsr04_set_faults): the world's, with
 * the command line's under it (world_link.c). Besides the dead and stuck
 * lines: a frozen echo (stuck), a target just past the 4 m range, and
 * uniform noise on the echo, drawn from the fault set's seed so it replays.
 */
#include <math.h>
#include <string.h>

#include "shim.h"
#include "shim_internal.h"
#include "world.h"

#define TRIGGER_MIN_US 10
#define BURST_US 450          /* 8 x 25 us burst plus module latency */
#define NO_ECHO_US 38000
#define HEARING_LIMIT_MM 4500
/* Past the driver's 400 cm but close enough to hear: an out-of-range echo. */
#define BEYOND_RANGE_MM 4300

struct hcsr04_model {
	const struct shim_env *env;
	uint64_t noise_state;
	unsigned int trig_pin, echo_pin;
	bool trig_high;
	uint64_t trig_since_us;
	uint64_t echo_rise_us;
	uint64_t echo_width_us;
	bool pinging;
};

static struct hcsr04_model sonar;

/* The fault set, kept apart from the model like the DHT22's. */
static struct {
	uint32_t mode;              /* enum world_sonar_mode */
	uint32_t noise_mm;
	uint64_t rng;
	bool stuck_ready;
	uint64_t stuck_width_us;
	bool have_last;
	uint64_t last_width_us;
} wf;

/* distance_mm = echo_us * 343 / 2000, the driver's inverse. */
static uint64_t width_of_mm(double mm)
{
	if (mm > HEARING_LIMIT_MM || mm < 0)
		return NO_ECHO_US;
	return (uint64_t)llround(mm * 2000.0 / 343.0);
}

/* The echo the room gives now, noise and all. */
static uint64_t room_width_us(struct hcsr04_model *m)
{
	double cm = m->env->distance_cm;
	double mm;

	if (m->env->noise > 0)
		cm += m->env->noise * shim_random_gauss(&m->noise_state);
	mm = cm * 10.0;
	if (wf.noise_mm) {
		uint64_t span = 2u * (uint64_t)wf.noise_mm + 1u;
		mm += (double)(shim_random_next(&wf.rng) % span) - (double)wf.noise_mm;
		if (mm < 0)
			mm = 0;
	}
	return width_of_mm(mm);
}

static uint64_t echo_width_us(struct hcsr04_model *m)
{
	uint64_t w;

	switch (wf.mode) {
	case WORLD_SONAR_NO_ECHO:
		return NO_ECHO_US;
	case WORLD_SONAR_BEYOND_RANGE:
		return width_of_mm(BEYOND_RANGE_MM);
	case WORLD_SONAR_STUCK:
		if (!wf.stuck_ready) {
			wf.stuck_width_us = room_width_us(m);
			wf.stuck_ready = true;
		}
		return wf.stuck_width_us;
	default:
		break;
	}
	w = room_width_us(m);
	wf.last_width_us = w;
	wf.have_last = true;
	return w;
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
	    wf.mode != WORLD_SONAR_SILENT) {
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
	if (wf.mode == WORLD_SONAR_STUCK_HIGH)
		return 1;
	if (!m->pinging || t_us < m->echo_rise_us)
		return 0;
	if (t_us < m->echo_rise_us + m->echo_width_us)
		return 1;
	m->pinging = false;
	return 0;
}

/* The echo's next edge, once a ping is under way (0: none scheduled). */
static uint64_t holds_until(void *self, unsigned int pin, uint64_t t_us)
{
	const struct hcsr04_model *m = self;

	if (pin != m->echo_pin || !m->pinging || wf.mode == WORLD_SONAR_STUCK_HIGH)
		return 0;
	if (t_us < m->echo_rise_us)
		return m->echo_rise_us;
	if (t_us < m->echo_rise_us + m->echo_width_us)
		return m->echo_rise_us + m->echo_width_us;
	return 0;
}

static const struct shim_pin_model sonar_pin_model = {
	.on_host_drive = on_host_drive,
	.level = level_at,
	.holds_until = holds_until,
	.self = &sonar,
};

int shim_hcsr04_attach(unsigned int trig_pin, unsigned int echo_pin,
		       const struct shim_env *env, uint64_t seed)
{
	int rc;

	memset(&sonar, 0, sizeof(sonar));
	wf.have_last = false;
	sonar.env = env;
	sonar.trig_pin = trig_pin;
	sonar.echo_pin = echo_pin;
	sonar.noise_state = seed ^ 0x50a4ull;
	if ((rc = shim__gpio_attach(trig_pin, &sonar_pin_model)) < 0 ||
	    (rc = shim__gpio_attach(echo_pin, &sonar_pin_model)) < 0)
		return rc;
	/* A module fresh on its pins has no command-line fault (yet). */
	shim_hcsr04_set_fault(SHIM_SONAR_OK);
	return 0;
}

void shim__hcsr04_set_faults(const struct world_faults *f)
{
	bool was_stuck = wf.mode == WORLD_SONAR_STUCK;

	wf.mode = f->sonar_mode;
	wf.noise_mm = f->sonar_noise_mm;
	wf.rng = f->seed ^ 0x50a4f417ull;
	if (wf.mode == WORLD_SONAR_STUCK && !was_stuck) {
		/* Freeze the last echo; a module that never pinged freezes the
		 * room as it is now (or at its first ping). */
		wf.stuck_ready = wf.have_last;
		wf.stuck_width_us = wf.last_width_us;
		if (!wf.stuck_ready && sonar.env) {
			wf.stuck_width_us = room_width_us(&sonar);
			wf.stuck_ready = true;
		}
	}
}
