/* The fault catalog's table: each kind's name, layer, options and what it does to world_faults. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fault_catalog.h"

#define PPM 1000000.0

/* The dashboard's fault mask has one bit per kind. */
_Static_assert(FAULT_KIND_COUNT <= 32, "a fault mask is 32 bits");

#define OFF(m) offsetof(struct fault_params, m)

const struct fault_option fault_options[FAULT_OPT_COUNT] = {
	[FAULT_OPT_FOR] = { "for", FAULT_TYPE_DURATION, OFF(for_ms), 0, UINT32_MAX, 0, "", NULL },
	[FAULT_OPT_PROBABILITY] = { "probability", FAULT_TYPE_NUMBER, OFF(probability), 0, 1, 1.0,
				    "", "%.3f" },
	[FAULT_OPT_PERIOD] = { "period", FAULT_TYPE_DURATION, OFF(period_ms), 100, UINT32_MAX, 0,
			       "", "%ums" },
	[FAULT_OPT_DUTY] = { "duty", FAULT_TYPE_NUMBER, OFF(duty), 0.01, 0.99, 0.5,
			     "(the share of each period the link is down)", "%.2f" },
	[FAULT_OPT_ATTEMPTS] = { "attempts", FAULT_TYPE_WHOLE, OFF(attempts), 1, 1000, 3, "", "%u" },
	[FAULT_OPT_LOSS] = { "loss", FAULT_TYPE_NUMBER, OFF(loss), 0, 1, 0.1, "", "%.3f" },
	[FAULT_OPT_LATENCY] = { "latency", FAULT_TYPE_DURATION, OFF(latency_ms), 0, 10000, 200, "",
				"%ums" },
	[FAULT_OPT_RSSI] = { "rssi", FAULT_TYPE_WHOLE_PART, OFF(rssi_dbm), -100, -30, -85, "dBm",
			     "%ddBm" },
	[FAULT_OPT_SIZE] = { "size", FAULT_TYPE_NUMBER, OFF(size), 0.1, 100, 20, "degC and %RH",
			     "%.1f" },
	[FAULT_OPT_PER_HOUR] = { "per_hour", FAULT_TYPE_NUMBER, OFF(per_hour), -1000, 1000, 0,
				 "degC per hour", "%.2f" },
	[FAULT_OPT_AMPLITUDE] = { "amplitude", FAULT_TYPE_NUMBER, OFF(amplitude_cm), 0.1, 400, 0,
				  "cm", "%.1fcm" },
	[FAULT_OPT_STATUS] = { "status", FAULT_TYPE_WHOLE, OFF(status), 100, 599, 503,
			       "(an HTTP status)", "%u" },
	[FAULT_OPT_DELAY] = { "delay", FAULT_TYPE_DURATION, OFF(delay_ms), 1, 600000, 5000, "",
			      "%ums" },
};

static uint32_t ppm(double p)
{
	return (uint32_t)lround(p * PPM);
}

/* ---- what each kind does to a robot's fault set ------------------------ */

/* Kinds that share a mode field name it through the row's mode. */
static void dht_mode_apply(struct world_faults *wf, const struct fault_kind_def *k,
			   const struct fault_params *p, int64_t now_ms)
{
	(void)p;
	(void)now_ms;
	wf->dht_mode = k->mode;
}

static bool dht_mode_active(const struct world_faults *wf, const struct fault_kind_def *k)
{
	return wf->dht_mode == k->mode;
}

static void dht_mode_clear(struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	wf->dht_mode = WORLD_DHT_OK;
}

static void sonar_mode_apply(struct world_faults *wf, const struct fault_kind_def *k,
			     const struct fault_params *p, int64_t now_ms)
{
	(void)p;
	(void)now_ms;
	wf->sonar_mode = k->mode;
}

static bool sonar_mode_active(const struct world_faults *wf, const struct fault_kind_def *k)
{
	return wf->sonar_mode == k->mode;
}

static void sonar_mode_clear(struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	wf->sonar_mode = WORLD_SONAR_OK;
}

static void link_mode_apply(struct world_faults *wf, const struct fault_kind_def *k,
			    const struct fault_params *p, int64_t now_ms)
{
	wf->link_mode = k->mode;
	if (k->mode == WORLD_LINK_FLAP) {
		wf->flap_period_ms = p->period_ms;
		wf->flap_down_ms = (uint32_t)lround(p->period_ms * p->duty);
	}
	/* A flap's phase counts from here. */
	wf->link_since_ms = now_ms;
}

static bool link_mode_active(const struct world_faults *wf, const struct fault_kind_def *k)
{
	return wf->link_mode == k->mode;
}

static void link_mode_clear(struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	wf->link_mode = WORLD_LINK_OK;
	wf->flap_period_ms = wf->flap_down_ms = 0;
}

static void assoc_fail_apply(struct world_faults *wf, const struct fault_kind_def *k,
			     const struct fault_params *p, int64_t now_ms)
{
	(void)k;
	(void)now_ms;
	/* A new generation tells the device to count N from now. */
	wf->assoc_fail_gen++;
	wf->assoc_fail_count = p->attempts;
}

static bool assoc_fail_active(const struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	return wf->assoc_fail_count != 0;
}

static void assoc_fail_clear(struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	/* A new generation with no failures left: the device stops failing. */
	wf->assoc_fail_gen++;
	wf->assoc_fail_count = 0;
}

static void weak_apply(struct world_faults *wf, const struct fault_kind_def *k,
		       const struct fault_params *p, int64_t now_ms)
{
	(void)k;
	(void)now_ms;
	wf->weak_loss_ppm = ppm(p->loss);
	wf->weak_latency_ms = p->latency_ms;
	wf->weak_rssi_dbm = p->rssi_dbm;
}

static bool weak_active(const struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	return wf->weak_loss_ppm || wf->weak_latency_ms;
}

static void weak_clear(struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	wf->weak_loss_ppm = wf->weak_latency_ms = 0;
	wf->weak_rssi_dbm = 0;
}

static void dht_checksum_apply(struct world_faults *wf, const struct fault_kind_def *k,
			       const struct fault_params *p, int64_t now_ms)
{
	(void)k;
	(void)now_ms;
	wf->dht_checksum_ppm = ppm(p->probability);
}

static bool dht_checksum_active(const struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	return wf->dht_checksum_ppm != 0;
}

static void dht_checksum_clear(struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	wf->dht_checksum_ppm = 0;
}

static void dht_stretched_apply(struct world_faults *wf, const struct fault_kind_def *k,
				const struct fault_params *p, int64_t now_ms)
{
	(void)k;
	(void)now_ms;
	wf->dht_stretch_ppm = ppm(p->probability);
}

static bool dht_stretched_active(const struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	return wf->dht_stretch_ppm != 0;
}

static void dht_stretched_clear(struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	wf->dht_stretch_ppm = 0;
}

static void dht_spikes_apply(struct world_faults *wf, const struct fault_kind_def *k,
			     const struct fault_params *p, int64_t now_ms)
{
	(void)k;
	(void)now_ms;
	wf->dht_spike_ppm = ppm(p->probability);
	wf->dht_spike_dc = (int32_t)lround(p->size * 10.0);
}

static bool dht_spikes_active(const struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	return wf->dht_spike_ppm != 0;
}

static void dht_spikes_clear(struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	wf->dht_spike_ppm = 0;
	wf->dht_spike_dc = 0;
}

static void dht_drift_apply(struct world_faults *wf, const struct fault_kind_def *k,
			    const struct fault_params *p, int64_t now_ms)
{
	(void)k;
	wf->dht_drift_dc_per_h = (int32_t)lround(p->per_hour * 10.0);
	wf->dht_since_ms = now_ms;
}

static bool dht_drift_active(const struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	return wf->dht_drift_dc_per_h != 0;
}

static void dht_drift_clear(struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	wf->dht_drift_dc_per_h = 0;
	wf->dht_since_ms = 0;
}

static void sonar_noise_apply(struct world_faults *wf, const struct fault_kind_def *k,
			      const struct fault_params *p, int64_t now_ms)
{
	(void)k;
	(void)now_ms;
	wf->sonar_noise_mm = (uint32_t)lround(p->amplitude_cm * 10.0);
}

static bool sonar_noise_active(const struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	return wf->sonar_noise_mm != 0;
}

static void sonar_noise_clear(struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	wf->sonar_noise_mm = 0;
}

static void flash_write_fail_apply(struct world_faults *wf, const struct fault_kind_def *k,
				   const struct fault_params *p, int64_t now_ms)
{
	(void)k;
	(void)now_ms;
	wf->flash_fail_ppm = ppm(p->probability);
}

static bool flash_write_fail_active(const struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	return wf->flash_fail_ppm != 0;
}

static void flash_write_fail_clear(struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	wf->flash_fail_ppm = 0;
}

static void flash_full_apply(struct world_faults *wf, const struct fault_kind_def *k,
			     const struct fault_params *p, int64_t now_ms)
{
	(void)k;
	(void)p;
	(void)now_ms;
	wf->flash_full = 1;
}

static bool flash_full_active(const struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	return wf->flash_full != 0;
}

static void flash_full_clear(struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	wf->flash_full = 0;
}

static void flash_corrupt_apply(struct world_faults *wf, const struct fault_kind_def *k,
				const struct fault_params *p, int64_t now_ms)
{
	(void)k;
	(void)p;
	(void)now_ms;
	/* Acts when the device next opens its store: at its next boot. */
	wf->flash_corrupt = 1;
}

static bool flash_corrupt_active(const struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	return wf->flash_corrupt != 0;
}

static void flash_corrupt_clear(struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	/* Damage already done stays: the clear only spares later boots. */
	wf->flash_corrupt = 0;
}

/* The credentials a device presents: one shared mode field, so the kinds
 * replace each other. Acts from the device's next session; the device
 * starts one at once (as a real one would after its credentials change). */
static void credentials_apply(struct world_faults *wf, const struct fault_kind_def *k,
			      const struct fault_params *p, int64_t now_ms)
{
	(void)p;
	(void)now_ms;
	wf->credential_mode = (uint8_t)k->mode;
}

static bool credentials_active(const struct world_faults *wf, const struct fault_kind_def *k)
{
	return wf->credential_mode == k->mode;
}

static void credentials_clear(struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	wf->credential_mode = WORLD_CREDENTIALS_OWN;
}

static void impersonate_apply(struct world_faults *wf, const struct fault_kind_def *k,
			      const struct fault_params *p, int64_t now_ms)
{
	(void)k;
	(void)p;
	(void)now_ms;
	wf->impersonating = 1;
}

static bool impersonate_active(const struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	return wf->impersonating != 0;
}

static void impersonate_clear(struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	wf->impersonating = 0;
}

/* The ingest kinds share one mode field: a robot meets one server fault at a time. */
static void ingest_mode_apply(struct world_faults *wf, const struct fault_kind_def *k,
			      const struct fault_params *p, int64_t now_ms)
{
	(void)now_ms;
	wf->ingest_mode = (uint8_t)k->mode;
	wf->ingest_status = k->mode == WORLD_INGEST_ERROR ? (uint16_t)p->status : 0;
	wf->ingest_delay_ms = k->mode == WORLD_INGEST_SLOW ? p->delay_ms : 0;
}

static bool ingest_mode_active(const struct world_faults *wf, const struct fault_kind_def *k)
{
	return wf->ingest_mode == k->mode;
}

static void ingest_mode_clear(struct world_faults *wf, const struct fault_kind_def *k)
{
	(void)k;
	wf->ingest_mode = WORLD_INGEST_OK;
	wf->ingest_status = 0;
	wf->ingest_delay_ms = 0;
}

/* ---- the table ---------------------------------------------------------- */

#define FUNCS(prefix) .apply = prefix##_apply, .clear = prefix##_clear, .active = prefix##_active
#define OPTS(...) \
	.options = { __VA_ARGS__ }, \
	.n_options = sizeof((struct fault_kind_option[]){ __VA_ARGS__ }) / \
		     sizeof(struct fault_kind_option)
#define OPT(name) { .id = FAULT_OPT_##name }

const struct fault_kind_def fault_catalog[FAULT_KIND_COUNT] = {
	[FAULT_WIFI_DROP] = { "wifi_drop", FAULT_LAYER_LINK, FAULT_MENU_NONE, WORLD_LINK_DOWN,
			      OPTS(OPT(FOR)), FUNCS(link_mode) },
	[FAULT_WIFI_FLAP] = { "wifi_flap", FAULT_LAYER_LINK, FAULT_MENU_LINK, WORLD_LINK_FLAP,
			      OPTS(OPT(FOR),
				   { .id = FAULT_OPT_PERIOD, .required = true, .preset = 10000,
				     .example = "{kind: wifi_flap, period: 10s, duty: 0.3}" },
				   OPT(DUTY)),
			      FUNCS(link_mode) },
	[FAULT_WIFI_ASSOC_FAIL] = { "wifi_assoc_fail", FAULT_LAYER_LINK, FAULT_MENU_LINK_COUNTED, 0,
				    OPTS(OPT(ATTEMPTS)), FUNCS(assoc_fail) },
	[FAULT_WIFI_WEAK] = { "wifi_weak", FAULT_LAYER_LINK, FAULT_MENU_LINK, 0,
			      OPTS(OPT(FOR), OPT(LOSS), OPT(LATENCY), OPT(RSSI)), FUNCS(weak) },
	[FAULT_DHT_NO_RESPONSE] = { "dht_no_response", FAULT_LAYER_DHT, FAULT_MENU_DHT,
				    WORLD_DHT_NO_RESPONSE, OPTS(OPT(FOR)), FUNCS(dht_mode) },
	[FAULT_DHT_CHECKSUM] = { "dht_checksum", FAULT_LAYER_DHT, FAULT_MENU_DHT, 0,
				 OPTS(OPT(FOR), OPT(PROBABILITY)), FUNCS(dht_checksum) },
	[FAULT_DHT_STUCK] = { "dht_stuck", FAULT_LAYER_DHT, FAULT_MENU_DHT, WORLD_DHT_STUCK,
			      OPTS(OPT(FOR)), FUNCS(dht_mode) },
	[FAULT_DHT_SPIKES] = { "dht_spikes", FAULT_LAYER_DHT, FAULT_MENU_DHT, 0,
			       OPTS(OPT(FOR),
				    { .id = FAULT_OPT_PROBABILITY, .has_def = true, .def = 0.2 },
				    OPT(SIZE)),
			       FUNCS(dht_spikes) },
	[FAULT_DHT_DRIFT] = { "dht_drift", FAULT_LAYER_DHT, FAULT_MENU_DHT, 0,
			      OPTS(OPT(FOR),
				   { .id = FAULT_OPT_PER_HOUR, .required = true, .preset = 10,
				     .example = "{kind: dht_drift, per_hour: 2.5}" }),
			      FUNCS(dht_drift) },
	[FAULT_DHT_STRETCHED] = { "dht_stretched", FAULT_LAYER_DHT, FAULT_MENU_DHT, 0,
				  OPTS(OPT(FOR), OPT(PROBABILITY)), FUNCS(dht_stretched) },
	[FAULT_DHT_TRUNCATED] = { "dht_truncated", FAULT_LAYER_DHT, FAULT_MENU_DHT,
				  WORLD_DHT_TRUNCATED, OPTS(OPT(FOR)), FUNCS(dht_mode) },
	[FAULT_SONAR_NO_ECHO] = { "sonar_no_echo", FAULT_LAYER_SONAR, FAULT_MENU_SONAR,
				  WORLD_SONAR_NO_ECHO, OPTS(OPT(FOR)), FUNCS(sonar_mode) },
	[FAULT_SONAR_NOISE] = { "sonar_noise", FAULT_LAYER_SONAR, FAULT_MENU_SONAR, 0,
				OPTS(OPT(FOR),
				     { .id = FAULT_OPT_AMPLITUDE, .required = true, .preset = 20,
				       .example = "{kind: sonar_noise, amplitude: 5}" }),
				FUNCS(sonar_noise) },
	[FAULT_SONAR_STUCK] = { "sonar_stuck", FAULT_LAYER_SONAR, FAULT_MENU_SONAR,
				WORLD_SONAR_STUCK, OPTS(OPT(FOR)), FUNCS(sonar_mode) },
	[FAULT_SONAR_BEYOND_RANGE] = { "sonar_beyond_range", FAULT_LAYER_SONAR, FAULT_MENU_SONAR,
				       WORLD_SONAR_BEYOND_RANGE, OPTS(OPT(FOR)),
				       FUNCS(sonar_mode) },
	[FAULT_SONAR_STUCK_HIGH] = { "sonar_stuck_high", FAULT_LAYER_SONAR, FAULT_MENU_SONAR,
				     WORLD_SONAR_STUCK_HIGH, OPTS(OPT(FOR)), FUNCS(sonar_mode) },
	[FAULT_SONAR_SILENT] = { "sonar_silent", FAULT_LAYER_SONAR, FAULT_MENU_SONAR,
				 WORLD_SONAR_SILENT, OPTS(OPT(FOR)), FUNCS(sonar_mode) },
	[FAULT_FLASH_WRITE_FAIL] = { "flash_write_fail", FAULT_LAYER_STORAGE, FAULT_MENU_STORAGE, 0,
				     OPTS(OPT(FOR), OPT(PROBABILITY)), FUNCS(flash_write_fail) },
	[FAULT_FLASH_FULL] = { "flash_full", FAULT_LAYER_STORAGE, FAULT_MENU_STORAGE, 0,
			       OPTS(OPT(FOR)), FUNCS(flash_full) },
	[FAULT_FLASH_CORRUPT] = { "flash_corrupt", FAULT_LAYER_STORAGE, FAULT_MENU_STORAGE, 0,
				  OPTS(OPT(FOR)), FUNCS(flash_corrupt) },
	[FAULT_CERT_EXPIRED] = { "cert_expired", FAULT_LAYER_SECURITY, FAULT_MENU_SECURITY,
				 WORLD_CREDENTIALS_EXPIRED, OPTS(OPT(FOR)), FUNCS(credentials) },
	[FAULT_CERT_FOREIGN_CA] = { "cert_foreign_ca", FAULT_LAYER_SECURITY, FAULT_MENU_SECURITY,
				    WORLD_CREDENTIALS_FOREIGN_CA, OPTS(OPT(FOR)),
				    FUNCS(credentials) },
	[FAULT_WRONG_PASSWORD] = { "wrong_password", FAULT_LAYER_SECURITY, FAULT_MENU_SECURITY,
				   WORLD_CREDENTIALS_WRONG_PASSWORD, OPTS(OPT(FOR)),
				   FUNCS(credentials) },
	[FAULT_IMPERSONATE] = { "impersonate", FAULT_LAYER_SECURITY, FAULT_MENU_NONE, 0,
				OPTS(OPT(FOR)), FUNCS(impersonate) },
	[FAULT_INGEST_ERROR] = { "ingest_error", FAULT_LAYER_SERVER, FAULT_MENU_SERVER,
				 WORLD_INGEST_ERROR, OPTS(OPT(FOR), OPT(STATUS)),
				 FUNCS(ingest_mode) },
	[FAULT_INGEST_SLOW] = { "ingest_slow", FAULT_LAYER_SERVER, FAULT_MENU_SERVER,
				WORLD_INGEST_SLOW, OPTS(OPT(FOR), OPT(DELAY)), FUNCS(ingest_mode) },
	[FAULT_INGEST_REFUSE] = { "ingest_refuse", FAULT_LAYER_SERVER, FAULT_MENU_SERVER,
				  WORLD_INGEST_REFUSE, OPTS(OPT(FOR)), FUNCS(ingest_mode) },
	[FAULT_INGEST_RESET] = { "ingest_reset", FAULT_LAYER_SERVER, FAULT_MENU_SERVER,
				 WORLD_INGEST_RESET, OPTS(OPT(FOR)), FUNCS(ingest_mode) },
};

/* ---- lookups and the operations every user of the table shares ---------- */

const struct fault_kind_def *fault_catalog_get(int kind)
{
	return kind >= 0 && kind < FAULT_KIND_COUNT ? &fault_catalog[kind] : NULL;
}

int fault_catalog_find(const char *name)
{
	for (int k = 0; k < FAULT_KIND_COUNT; k++)
		if (strcmp(name, fault_catalog[k].name) == 0)
			return k;
	return -ENOENT;
}

const char *fault_catalog_name(int kind)
{
	const struct fault_kind_def *k = fault_catalog_get(kind);

	return k ? k->name : "?";
}

const struct fault_kind_option *fault_catalog_option(int kind, enum fault_option_id id)
{
	const struct fault_kind_def *k = fault_catalog_get(kind);

	for (unsigned i = 0; k && i < k->n_options; i++)
		if (k->options[i].id == id)
			return &k->options[i];
	return NULL;
}

double fault_params_get(const struct fault_params *p, enum fault_option_id id)
{
	const struct fault_option *o = &fault_options[id];
	const char *at = (const char *)p + o->offset;
	uint32_t u;
	int32_t i;
	double d;

	switch (o->type) {
	case FAULT_TYPE_DURATION:
	case FAULT_TYPE_WHOLE:
		memcpy(&u, at, sizeof(u));
		return u;
	case FAULT_TYPE_WHOLE_PART:
		memcpy(&i, at, sizeof(i));
		return i;
	case FAULT_TYPE_NUMBER:
		break;
	}
	memcpy(&d, at, sizeof(d));
	return d;
}

void fault_params_set(struct fault_params *p, enum fault_option_id id, double v)
{
	const struct fault_option *o = &fault_options[id];
	char *at = (char *)p + o->offset;
	uint32_t u;
	int32_t i;

	switch (o->type) {
	case FAULT_TYPE_DURATION:
	case FAULT_TYPE_WHOLE:
		u = (uint32_t)llround(v);
		memcpy(at, &u, sizeof(u));
		return;
	case FAULT_TYPE_WHOLE_PART:
		i = (int32_t)v;
		memcpy(at, &i, sizeof(i));
		return;
	case FAULT_TYPE_NUMBER:
		break;
	}
	memcpy(at, &v, sizeof(v));
}

void fault_catalog_defaults(int kind, bool preset, struct fault_params *p)
{
	const struct fault_kind_def *k = fault_catalog_get(kind);

	memset(p, 0, sizeof(*p));
	/* Every option, whether the kind takes it or not: a bare kind always
	 * means something useful, and nothing is left to chance. */
	for (int id = 0; id < FAULT_OPT_COUNT; id++)
		fault_params_set(p, (enum fault_option_id)id, fault_options[id].def);
	for (unsigned i = 0; k && i < k->n_options; i++) {
		const struct fault_kind_option *ko = &k->options[i];

		if (ko->has_def)
			fault_params_set(p, ko->id, ko->def);
		if (preset && ko->required)
			fault_params_set(p, ko->id, ko->preset);
	}
}

void fault_catalog_apply(struct world_faults *wf, int kind, const struct fault_params *p,
			 uint64_t seed, int64_t now_ms)
{
	const struct fault_kind_def *k = fault_catalog_get(kind);

	wf->seed = seed;
	if (k)
		k->apply(wf, k, p, now_ms);
}

bool fault_catalog_active(const struct world_faults *wf, int kind)
{
	const struct fault_kind_def *k = fault_catalog_get(kind);

	return k && k->active(wf, k);
}

void fault_catalog_clear(struct world_faults *wf, int kind)
{
	const struct fault_kind_def *k = fault_catalog_get(kind);

	/* Clearing a kind that a sharer of its mode replaced must leave the
	 * one in force alone. */
	if (k && k->active(wf, k))
		k->clear(wf, k);
}

void fault_catalog_clear_all(struct world_faults *wf)
{
	for (int k = 0; k < FAULT_KIND_COUNT; k++)
		fault_catalog_clear(wf, k);
}

const char *fault_catalog_describe(int kind, const struct fault_params *p, char *buf,
				   size_t len)
{
	const struct fault_kind_def *k = fault_catalog_get(kind);
	size_t n = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	/* The kind's own options in the catalog's order, then how long. */
	for (int id = 0; k && id < FAULT_OPT_COUNT; id++) {
		const struct fault_option *o = &fault_options[id];
		char value[48];
		double v;

		if (!o->format || !fault_catalog_option(kind, (enum fault_option_id)id))
			continue;
		v = fault_params_get(p, (enum fault_option_id)id);
		switch (o->type) {
		case FAULT_TYPE_DURATION:
		case FAULT_TYPE_WHOLE:
			snprintf(value, sizeof(value), o->format, (unsigned)v);
			break;
		case FAULT_TYPE_WHOLE_PART:
			snprintf(value, sizeof(value), o->format, (int)v);
			break;
		case FAULT_TYPE_NUMBER:
			snprintf(value, sizeof(value), o->format, v);
			break;
		}
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", n ? " " : "", o->name,
					      value);
	}
	if (p->for_ms && n < len)
		snprintf(buf + n, len - n, "%sfor=%ums", n ? " " : "", (unsigned)p->for_ms);
	return buf;
}
