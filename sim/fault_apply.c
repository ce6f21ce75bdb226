/* Scenario faults to and from the world's per-robot fault set. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fault_apply.h"

#define PPM 1000000.0

static uint32_t ppm(double p)
{
	return (uint32_t)lround(p * PPM);
}

void fault_apply(struct world_faults *wf, const struct scenario_fault *f, uint64_t seed,
		 int64_t now_ms)
{
	wf->seed = seed;
	switch (f->kind) {
	case SCENARIO_FAULT_WIFI_DROP:
		wf->link_mode = WORLD_LINK_DOWN;
		wf->link_since_ms = now_ms;
		break;
	case SCENARIO_FAULT_WIFI_FLAP:
		wf->link_mode = WORLD_LINK_FLAP;
		wf->flap_period_ms = f->period_ms;
		wf->flap_down_ms = (uint32_t)lround(f->period_ms * f->duty);
		wf->link_since_ms = now_ms;
		break;
	case SCENARIO_FAULT_WIFI_ASSOC_FAIL:
		/* A new generation tells the device to count N from now. */
		wf->assoc_fail_gen++;
		wf->assoc_fail_count = f->attempts;
		break;
	case SCENARIO_FAULT_WIFI_WEAK:
		wf->weak_loss_ppm = ppm(f->loss);
		wf->weak_latency_ms = f->latency_ms;
		wf->weak_rssi_dbm = f->rssi_dbm;
		break;
	case SCENARIO_FAULT_DHT_NO_RESPONSE:
		wf->dht_mode = WORLD_DHT_NO_RESPONSE;
		break;
	case SCENARIO_FAULT_DHT_STUCK:
		wf->dht_mode = WORLD_DHT_STUCK;
		break;
	case SCENARIO_FAULT_DHT_TRUNCATED:
		wf->dht_mode = WORLD_DHT_TRUNCATED;
		break;
	case SCENARIO_FAULT_DHT_CHECKSUM:
		wf->dht_checksum_ppm = ppm(f->probability);
		break;
	case SCENARIO_FAULT_DHT_STRETCHED:
		wf->dht_stretch_ppm = ppm(f->probability);
		break;
	case SCENARIO_FAULT_DHT_SPIKES:
		wf->dht_spike_ppm = ppm(f->probability);
		wf->dht_spike_dc = (int32_t)lround(f->size * 10.0);
		break;
	case SCENARIO_FAULT_DHT_DRIFT:
		wf->dht_drift_dc_per_h = (int32_t)lround(f->per_hour * 10.0);
		wf->dht_since_ms = now_ms;
		break;
	case SCENARIO_FAULT_SONAR_NO_ECHO:
		wf->sonar_mode = WORLD_SONAR_NO_ECHO;
		break;
	case SCENARIO_FAULT_SONAR_STUCK:
		wf->sonar_mode = WORLD_SONAR_STUCK;
		break;
	case SCENARIO_FAULT_SONAR_BEYOND_RANGE:
		wf->sonar_mode = WORLD_SONAR_BEYOND_RANGE;
		break;
	case SCENARIO_FAULT_SONAR_STUCK_HIGH:
		wf->sonar_mode = WORLD_SONAR_STUCK_HIGH;
		break;
	case SCENARIO_FAULT_SONAR_SILENT:
		wf->sonar_mode = WORLD_SONAR_SILENT;
		break;
	case SCENARIO_FAULT_SONAR_NOISE:
		wf->sonar_noise_mm = (uint32_t)lround(f->amplitude_cm * 10.0);
		break;
	case SCENARIO_FAULT_FLASH_WRITE_FAIL:
		wf->flash_fail_ppm = ppm(f->probability);
		break;
	case SCENARIO_FAULT_FLASH_FULL:
		wf->flash_full = 1;
		break;
	case SCENARIO_FAULT_FLASH_CORRUPT:
		/* Acts when the device next opens its store: at its next boot. */
		wf->flash_corrupt = 1;
		break;
	case SCENARIO_FAULT_COUNT:
		break;
	}
}

/* The mode a kind sets, for kinds that share a mode field; 0 otherwise. */
static uint32_t mode_of(enum scenario_fault_kind k)
{
	switch (k) {
	case SCENARIO_FAULT_WIFI_DROP: return WORLD_LINK_DOWN;
	case SCENARIO_FAULT_WIFI_FLAP: return WORLD_LINK_FLAP;
	case SCENARIO_FAULT_DHT_NO_RESPONSE: return WORLD_DHT_NO_RESPONSE;
	case SCENARIO_FAULT_DHT_STUCK: return WORLD_DHT_STUCK;
	case SCENARIO_FAULT_DHT_TRUNCATED: return WORLD_DHT_TRUNCATED;
	case SCENARIO_FAULT_SONAR_NO_ECHO: return WORLD_SONAR_NO_ECHO;
	case SCENARIO_FAULT_SONAR_STUCK: return WORLD_SONAR_STUCK;
	case SCENARIO_FAULT_SONAR_BEYOND_RANGE: return WORLD_SONAR_BEYOND_RANGE;
	case SCENARIO_FAULT_SONAR_STUCK_HIGH: return WORLD_SONAR_STUCK_HIGH;
	case SCENARIO_FAULT_SONAR_SILENT: return WORLD_SONAR_SILENT;
	default: return 0;
	}
}

bool fault_active(const struct world_faults *wf, enum scenario_fault_kind k)
{
	switch (k) {
	case SCENARIO_FAULT_WIFI_DROP:
	case SCENARIO_FAULT_WIFI_FLAP:
		return wf->link_mode == mode_of(k);
	case SCENARIO_FAULT_WIFI_ASSOC_FAIL: return wf->assoc_fail_count != 0;
	case SCENARIO_FAULT_WIFI_WEAK: return wf->weak_loss_ppm || wf->weak_latency_ms;
	case SCENARIO_FAULT_DHT_NO_RESPONSE:
	case SCENARIO_FAULT_DHT_STUCK:
	case SCENARIO_FAULT_DHT_TRUNCATED:
		return wf->dht_mode == mode_of(k);
	case SCENARIO_FAULT_DHT_CHECKSUM: return wf->dht_checksum_ppm != 0;
	case SCENARIO_FAULT_DHT_STRETCHED: return wf->dht_stretch_ppm != 0;
	case SCENARIO_FAULT_DHT_SPIKES: return wf->dht_spike_ppm != 0;
	case SCENARIO_FAULT_DHT_DRIFT: return wf->dht_drift_dc_per_h != 0;
	case SCENARIO_FAULT_SONAR_NOISE: return wf->sonar_noise_mm != 0;
	case SCENARIO_FAULT_SONAR_NO_ECHO:
	case SCENARIO_FAULT_SONAR_STUCK:
	case SCENARIO_FAULT_SONAR_BEYOND_RANGE:
	case SCENARIO_FAULT_SONAR_STUCK_HIGH:
	case SCENARIO_FAULT_SONAR_SILENT:
		return wf->sonar_mode == mode_of(k);
	case SCENARIO_FAULT_FLASH_WRITE_FAIL: return wf->flash_fail_ppm != 0;
	case SCENARIO_FAULT_FLASH_FULL: return wf->flash_full != 0;
	case SCENARIO_FAULT_FLASH_CORRUPT: return wf->flash_corrupt != 0;
	case SCENARIO_FAULT_COUNT: return false;
	}
	return false;
}

static void clear_one(struct world_faults *wf, enum scenario_fault_kind k)
{
	if (!fault_active(wf, k))
		return;
	switch (k) {
	case SCENARIO_FAULT_WIFI_DROP:
	case SCENARIO_FAULT_WIFI_FLAP:
		wf->link_mode = WORLD_LINK_OK;
		wf->flap_period_ms = wf->flap_down_ms = 0;
		break;
	case SCENARIO_FAULT_WIFI_ASSOC_FAIL:
		/* A new generation with no failures left: the device stops failing. */
		wf->assoc_fail_gen++;
		wf->assoc_fail_count = 0;
		break;
	case SCENARIO_FAULT_WIFI_WEAK:
		wf->weak_loss_ppm = wf->weak_latency_ms = 0;
		wf->weak_rssi_dbm = 0;
		break;
	case SCENARIO_FAULT_DHT_NO_RESPONSE:
	case SCENARIO_FAULT_DHT_STUCK:
	case SCENARIO_FAULT_DHT_TRUNCATED:
		wf->dht_mode = WORLD_DHT_OK;
		break;
	case SCENARIO_FAULT_DHT_CHECKSUM: wf->dht_checksum_ppm = 0; break;
	case SCENARIO_FAULT_DHT_STRETCHED: wf->dht_stretch_ppm = 0; break;
	case SCENARIO_FAULT_DHT_SPIKES:
		wf->dht_spike_ppm = 0;
		wf->dht_spike_dc = 0;
		break;
	case SCENARIO_FAULT_DHT_DRIFT:
		wf->dht_drift_dc_per_h = 0;
		wf->dht_since_ms = 0;
		break;
	case SCENARIO_FAULT_SONAR_NOISE: wf->sonar_noise_mm = 0; break;
	case SCENARIO_FAULT_SONAR_NO_ECHO:
	case SCENARIO_FAULT_SONAR_STUCK:
	case SCENARIO_FAULT_SONAR_BEYOND_RANGE:
	case SCENARIO_FAULT_SONAR_STUCK_HIGH:
	case SCENARIO_FAULT_SONAR_SILENT:
		wf->sonar_mode = WORLD_SONAR_OK;
		break;
	case SCENARIO_FAULT_FLASH_WRITE_FAIL: wf->flash_fail_ppm = 0; break;
	case SCENARIO_FAULT_FLASH_FULL: wf->flash_full = 0; break;
	/* Damage already done stays: the clear only spares later boots. */
	case SCENARIO_FAULT_FLASH_CORRUPT: wf->flash_corrupt = 0; break;
	case SCENARIO_FAULT_COUNT: break;
	}
}

void fault_clear(struct world_faults *wf, bool kind_set, enum scenario_fault_kind kind)
{
	if (kind_set) {
		clear_one(wf, kind);
		return;
	}
	for (int k = 0; k < SCENARIO_FAULT_COUNT; k++)
		clear_one(wf, (enum scenario_fault_kind)k);
}

const char *fault_describe(const struct scenario_fault *f, char *buf, size_t len)
{
	int n = 0;

	buf[0] = '\0';
#define ADD(...) \
	do { \
		if (n >= 0 && (size_t)n < len) \
			n += snprintf(buf + n, len - (size_t)n, __VA_ARGS__); \
	} while (0)
	switch (f->kind) {
	case SCENARIO_FAULT_WIFI_FLAP:
		ADD("period=%ums duty=%.2f ", f->period_ms, f->duty);
		break;
	case SCENARIO_FAULT_WIFI_ASSOC_FAIL:
		ADD("attempts=%u ", f->attempts);
		break;
	case SCENARIO_FAULT_WIFI_WEAK:
		ADD("loss=%.3f latency=%ums rssi=%ddBm ", f->loss, f->latency_ms, (int)f->rssi_dbm);
		break;
	case SCENARIO_FAULT_DHT_CHECKSUM:
	case SCENARIO_FAULT_DHT_STRETCHED:
	case SCENARIO_FAULT_FLASH_WRITE_FAIL:
		ADD("probability=%.3f ", f->probability);
		break;
	case SCENARIO_FAULT_DHT_SPIKES:
		ADD("probability=%.3f size=%.1f ", f->probability, f->size);
		break;
	case SCENARIO_FAULT_DHT_DRIFT:
		ADD("per_hour=%.2f ", f->per_hour);
		break;
	case SCENARIO_FAULT_SONAR_NOISE:
		ADD("amplitude=%.1fcm ", f->amplitude_cm);
		break;
	default:
		break;
	}
	if (f->for_ms)
		ADD("for=%ums ", f->for_ms);
#undef ADD
	/* No trailing blank. */
	n = (int)strlen(buf);
	if (n > 0 && buf[n - 1] == ' ')
		buf[n - 1] = '\0';
	return buf;
}

uint64_t fault_seed(uint64_t run_seed, size_t dev, uint32_t nth)
{
	/* splitmix64 finaliser over the three inputs */
	uint64_t z = run_seed + 0x9e3779b97f4a7c15ull * ((uint64_t)dev + 1) +
		     0xbf58476d1ce4e5b9ull * ((uint64_t)nth + 1);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
