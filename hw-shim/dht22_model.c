/*
 * A DHT22 on a virtual pin, at waveform level (AM2302 datasheet timings).
 * When the host has held the line low for at least 1 ms and releases it, the
 * model answers with the response and 40 data bits built from the
 * environment; the line level at any instant is read off that waveform.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "shim.h"
#include "shim_internal.h"

#define START_LOW_MIN_US 1000
#define GO_US 30           /* release -> sensor pulls low (20-40 us) */
#define RESPONSE_US 80
#define BIT_LOW_US 50
#define ZERO_HIGH_US 27
#define ONE_HIGH_US 70
#define STRETCHED_HIGH_US 110 /* longer than any valid bit, shorter than a timeout */
#define TRUNCATE_AFTER_BITS 20

/* Segments alternate low, high, low, ...; then the line is released. */
#define MAX_SEGMENTS (2 + 2 * 40 + 1)

struct dht22_model {
	const struct shim_env *env;
	uint64_t noise_state;
	enum shim_dht_fault fault;
	unsigned int pin;
	bool host_low;
	uint64_t low_since_us;
	bool answering;
	uint64_t wave_start_us;
	uint16_t segment_us[MAX_SEGMENTS];
	unsigned int segments;
};

static struct dht22_model dht;

static long clamp_round(double v, long lo, long hi)
{
	long r = lround(v);
	return r < lo ? lo : r > hi ? hi : r;
}

static void build_frame(struct dht22_model *m, uint8_t bytes[5])
{
	double noise_t = m->env->noise > 0 ? m->env->noise * shim_random_gauss(&m->noise_state) : 0;
	double noise_h = m->env->noise > 0 ? m->env->noise * shim_random_gauss(&m->noise_state) : 0;
	long temp_dc = clamp_round((m->env->temperature_c + noise_t) * 10.0, -400, 800);
	long hum_dpct = clamp_round((m->env->humidity_pct + noise_h) * 10.0, 0, 1000);
	uint16_t raw_t = (uint16_t)(temp_dc < 0 ? (0x8000 | -temp_dc) : temp_dc);

	bytes[0] = (uint8_t)(hum_dpct >> 8);
	bytes[1] = (uint8_t)hum_dpct;
	bytes[2] = (uint8_t)(raw_t >> 8);
	bytes[3] = (uint8_t)raw_t;
	bytes[4] = (uint8_t)(bytes[0] + bytes[1] + bytes[2] + bytes[3]);
	if (m->fault == SHIM_DHT_CHECKSUM)
		bytes[1] ^= 0x01;
}

static void start_answer(struct dht22_model *m, uint64_t release_us)
{
	uint8_t bytes[5];
	unsigned int n = 0, bits = 40;

	if (m->fault == SHIM_DHT_NO_RESPONSE)
		return;
	build_frame(m, bytes);
	if (m->fault == SHIM_DHT_TRUNCATED)
		bits = TRUNCATE_AFTER_BITS;
	m->segment_us[n++] = RESPONSE_US;
	m->segment_us[n++] = RESPONSE_US;
	for (unsigned int i = 0; i < bits; i++) {
		bool one = bytes[i / 8] & (0x80 >> (i % 8));
		m->segment_us[n++] = BIT_LOW_US;
		m->segment_us[n++] = one ? ONE_HIGH_US : ZERO_HIGH_US;
	}
	if (m->fault == SHIM_DHT_STRETCHED)
		m->segment_us[2 + 2 * 7 + 1] = STRETCHED_HIGH_US;
	if (bits == 40)
		m->segment_us[n++] = BIT_LOW_US; /* end-of-frame low, then release */
	m->segments = n;
	m->wave_start_us = release_us + GO_US;
	m->answering = true;
}

static void on_host_drive(void *self, unsigned int pin, int level, uint64_t t_us)
{
	struct dht22_model *m = self;

	(void)pin;
	if (level == 0) {
		m->host_low = true;
		m->low_since_us = t_us;
		m->answering = false;
		return;
	}
	if (m->host_low && t_us - m->low_since_us >= START_LOW_MIN_US)
		start_answer(m, t_us);
	m->host_low = false;
}

static int level_at(void *self, unsigned int pin, uint64_t t_us)
{
	struct dht22_model *m = self;
	uint64_t offset;

	(void)pin;
	if (!m->answering || t_us < m->wave_start_us)
		return -1;
	offset = t_us - m->wave_start_us;
	for (unsigned int i = 0; i < m->segments; i++) {
		if (offset < m->segment_us[i])
			return (i % 2 == 0) ? 0 : 1;
		offset -= m->segment_us[i];
	}
	m->answering = false;
	return -1;
}

static const struct shim_pin_model dht_pin_model = {
	.on_host_drive = on_host_drive,
	.level = level_at,
	.self = &dht,
};

int shim_dht22_attach(unsigned int pin, const struct shim_env *env, uint64_t seed)
{
	memset(&dht, 0, sizeof(dht));
	dht.env = env;
	dht.pin = pin;
	dht.noise_state = seed ^ 0xd4e12c7ull;
	return shim__gpio_attach(pin, &dht_pin_model);
}

void shim_dht22_set_fault(enum shim_dht_fault fault)
{
	dht.fault = fault;
}
