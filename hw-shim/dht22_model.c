/*
 * A DHT22 on a virtual pin, at waveform level (AM2302 datasheet timings).
 * When the host has held the line low for at least 1 ms and releases it, the
 * model answers with the response and 40 data bits built from the
 * environment; the line level at any instant is read off that waveform.
 *
 * Faults change the waveform, never the driver's view of it. They come in
 * one fault set (shim__dht22_set_faults): the world's, with the command
 * line's under it (world_link.c). The probabilistic faults draw from their
 * own stream seeded by the fault set, so a run replays the same bad frames
 * in the same places.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "shim.h"
#include "shim_internal.h"
#include "world.h"

#define START_LOW_MIN_US 1000
#define GO_US 30           /* release -> sensor pulls low (20-40 us) */
#define RESPONSE_US 80
#define BIT_LOW_US 50
#define ZERO_HIGH_US 27
#define ONE_HIGH_US 70
#define STRETCHED_HIGH_US 110 /* longer than any valid bit, shorter than a timeout */
#define TRUNCATE_AFTER_BITS 20
#define PPM 1000000u
#define MS_PER_HOUR 3600000.0
/* What 16 bits can carry: humidity unsigned, temperature sign-magnitude. */
#define RAW_HUM_MAX 0xffff
#define RAW_TEMP_MAX 0x7fff

/* Segments alternate low, high, low, ...; then the line is released. */
#define MAX_SEGMENTS (2 + 2 * 40 + 1)

struct dht22_model {
	const struct shim_env *env;
	uint64_t noise_state;
	unsigned int pin;
	bool host_low;
	uint64_t low_since_us;
	bool answering;
	uint64_t wave_start_us;
	uint16_t segment_us[MAX_SEGMENTS];
	unsigned int segments;
	/* Where the last poll fell: the driver polls every microsecond and time
	 * only moves forward, so each poll resumes the walk here (O(1) rather
	 * than O(segments); the walk was most of a robot's CPU). */
	unsigned int cursor;
	uint64_t cursor_start_us; /* start of segment[cursor], from wave start */
};

static struct dht22_model dht;

/*
 * The fault set. Kept apart from the model: the device takes its first
 * fault set before the sensors are attached, and a re-attach (tests) must
 * not forget the world's.
 */
static struct {
	uint32_t mode;              /* enum world_dht_mode */
	uint32_t checksum_ppm, stretch_ppm, spike_ppm;
	int32_t spike_dc, drift_dc_per_h;
	int64_t since_ms;
	uint64_t rng;
	bool stuck_ready;           /* stuck_frame holds the frame to repeat */
	uint8_t stuck_frame[5];
	bool have_last;
	uint8_t last_frame[5];      /* the last frame sent, before corruption */
} wf;

static bool chance(uint32_t ppm)
{
	return ppm && shim_random_next(&wf.rng) % PPM < ppm;
}

static long clamp_round(double v, long lo, long hi)
{
	long r = lround(v);
	return r < lo ? lo : r > hi ? hi : r;
}

static void encode(long temp_dc, long hum_dpct, uint8_t bytes[5])
{
	uint16_t raw_t = (uint16_t)(temp_dc < 0 ? (0x8000 | -temp_dc) : temp_dc);

	bytes[0] = (uint8_t)(hum_dpct >> 8);
	bytes[1] = (uint8_t)hum_dpct;
	bytes[2] = (uint8_t)(raw_t >> 8);
	bytes[3] = (uint8_t)raw_t;
	bytes[4] = (uint8_t)(bytes[0] + bytes[1] + bytes[2] + bytes[3]);
}

/* Tenths of degC the sensor has drifted by now. */
static double drift_dc(void)
{
	double hours;

	if (!wf.drift_dc_per_h)
		return 0;
	hours = ((double)(int64_t)(shim_clock_now_us() / 1000u) - (double)wf.since_ms) / MS_PER_HOUR;
	return hours > 0 ? wf.drift_dc_per_h * hours : 0;
}

/* A true frame from the room as it is, with drift and spikes. */
static void build_frame(struct dht22_model *m, uint8_t bytes[5])
{
	double noise_t = m->env->noise > 0 ? m->env->noise * shim_random_gauss(&m->noise_state) : 0;
	double noise_h = m->env->noise > 0 ? m->env->noise * shim_random_gauss(&m->noise_state) : 0;
	long temp_dc = clamp_round((m->env->temperature_c + noise_t) * 10.0 + drift_dc(), -400, 800);
	long hum_dpct = clamp_round((m->env->humidity_pct + noise_h) * 10.0, 0, 1000);

	/* A spike is a frame the sensor believes in: checksum right, value
	 * off, possibly past the sensor's range (the driver's range check
	 * then refuses it), never past what the frame can encode. */
	if (chance(wf.spike_ppm)) {
		long d = shim_random_next(&wf.rng) & 1 ? wf.spike_dc : -(long)wf.spike_dc;
		temp_dc = clamp_round((double)(temp_dc + d), -RAW_TEMP_MAX, RAW_TEMP_MAX);
		hum_dpct = clamp_round((double)(hum_dpct + d), 0, RAW_HUM_MAX);
	}
	encode(temp_dc, hum_dpct, bytes);
}

static void start_answer(struct dht22_model *m, uint64_t release_us)
{
	uint8_t bytes[5];
	unsigned int n = 0, bits = 40;
	int stretch_bit = -1;

	if (wf.mode == WORLD_DHT_NO_RESPONSE)
		return;
	if (wf.mode == WORLD_DHT_STUCK) {
		if (!wf.stuck_ready) {
			build_frame(m, wf.stuck_frame);
			wf.stuck_ready = true;
		}
		memcpy(bytes, wf.stuck_frame, sizeof(bytes));
	} else {
		build_frame(m, bytes);
	}
	memcpy(wf.last_frame, bytes, sizeof(bytes));
	wf.have_last = true;

	/* Corruption on the way: a flipped data bit leaves the checksum as the
	 * sensor computed it; a stretched high pulse is marginal timing. */
	if (chance(wf.checksum_ppm)) {
		unsigned int bit = (unsigned int)(shim_random_next(&wf.rng) % 32);
		bytes[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
	}
	if (chance(wf.stretch_ppm))
		stretch_bit = (int)(shim_random_next(&wf.rng) % 40);
	if (wf.mode == WORLD_DHT_TRUNCATED)
		bits = TRUNCATE_AFTER_BITS;

	m->segment_us[n++] = RESPONSE_US;
	m->segment_us[n++] = RESPONSE_US;
	for (unsigned int i = 0; i < bits; i++) {
		bool one = bytes[i / 8] & (0x80 >> (i % 8));
		m->segment_us[n++] = BIT_LOW_US;
		m->segment_us[n++] = one ? ONE_HIGH_US : ZERO_HIGH_US;
	}
	if (stretch_bit >= 0 && (unsigned int)stretch_bit < bits)
		m->segment_us[2 + 2 * (unsigned int)stretch_bit + 1] = STRETCHED_HIGH_US;
	if (bits == 40)
		m->segment_us[n++] = BIT_LOW_US; /* end-of-frame low, then release */
	m->segments = n;
	m->cursor = 0;
	m->cursor_start_us = 0;
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
	if (offset < m->cursor_start_us) {
		m->cursor = 0;
		m->cursor_start_us = 0;
	}
	for (; m->cursor < m->segments; m->cursor++) {
		if (offset < m->cursor_start_us + m->segment_us[m->cursor])
			return (m->cursor % 2 == 0) ? 0 : 1;
		m->cursor_start_us += m->segment_us[m->cursor];
	}
	m->answering = false;
	return -1;
}

/* The edge that ends the segment level_at() last found (0: none known). */
static uint64_t holds_until(void *self, unsigned int pin, uint64_t t_us)
{
	const struct dht22_model *m = self;

	(void)pin;
	if (!m->answering)
		return 0;
	if (t_us < m->wave_start_us)
		return m->wave_start_us;
	if (m->cursor >= m->segments)
		return 0;
	return m->wave_start_us + m->cursor_start_us + m->segment_us[m->cursor];
}

static const struct shim_pin_model dht_pin_model = {
	.on_host_drive = on_host_drive,
	.level = level_at,
	.holds_until = holds_until,
	.self = &dht,
};

int shim_dht22_attach(unsigned int pin, const struct shim_env *env, uint64_t seed)
{
	int rc;

	memset(&dht, 0, sizeof(dht));
	wf.have_last = false;
	dht.env = env;
	dht.pin = pin;
	dht.noise_state = seed ^ 0xd4e12c7ull;
	if ((rc = shim__gpio_attach(pin, &dht_pin_model)) < 0)
		return rc;
	/* A sensor fresh on its pins has no command-line fault (yet). */
	shim_dht22_set_fault(SHIM_DHT_OK);
	return 0;
}

void shim__dht22_set_faults(const struct world_faults *f)
{
	bool was_stuck = wf.mode == WORLD_DHT_STUCK;

	wf.mode = f->dht_mode;
	wf.checksum_ppm = f->dht_checksum_ppm;
	wf.stretch_ppm = f->dht_stretch_ppm;
	wf.spike_ppm = f->dht_spike_ppm;
	wf.spike_dc = f->dht_spike_dc;
	wf.drift_dc_per_h = f->dht_drift_dc_per_h;
	wf.since_ms = f->dht_since_ms;
	if (wf.drift_dc_per_h && wf.since_ms == 0)
		wf.since_ms = (int64_t)(shim_clock_now_us() / 1000u);
	wf.rng = f->seed ^ 0xd4e1f417ull;
	if (wf.mode == WORLD_DHT_STUCK && !was_stuck) {
		/* Freeze what the sensor last said; one that never spoke
		 * freezes the room as it is now (or at its first answer). */
		wf.stuck_ready = wf.have_last;
		memcpy(wf.stuck_frame, wf.last_frame, sizeof(wf.stuck_frame));
		if (!wf.stuck_ready && dht.env) {
			build_frame(&dht, wf.stuck_frame);
			wf.stuck_ready = true;
		}
	}
}
