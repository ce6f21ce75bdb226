// DHT: the Adafruit library's read caching and NaN-on-failure over the firmware's own DHT22 driver.
#include "DHT.h"

#include "runtime.h"

extern "C" {
#include "dht22.h"
#include "hal_log.h"
#include "shim.h"
}

using namespace robofleet_arduino;

/* The sensor's minimum time between two conversions. */
static const unsigned long MIN_INTERVAL_MS = 2000;

DHT::DHT(uint8_t pin, uint8_t type, uint8_t count) : pin_(pin), type_(type)
{
	(void)count;
}

void DHT::begin(uint8_t usec)
{
	const Identity &id = runtime_identity();
	char line[120];
	int rc;

	(void)usec;
	/* The model is wired where the sketch says the sensor is. */
	if (!attached_) {
		rc = shim_dht22_attach(pin_, id.env, id.seed);
		attached_ = rc == 0;
		if (rc < 0) {
			snprintf(line, sizeof(line),
				 "DHT on pin %u: the pin is taken or out of range; reads give NaN",
				 (unsigned)pin_);
			hal_log_write(HAL_LOG_WARN, line);
		}
	}
	if (type_ == DHT11 || type_ == DHT12) {
		snprintf(line, sizeof(line),
			 "DHT type %u: the virtual sensor is a DHT22 (AM2302); its frames are "
			 "decoded as such", (unsigned)type_);
		hal_log_write(HAL_LOG_WARN, line);
	}
	/* The first read converts at once. */
	last_read_ms_ = millis() - MIN_INTERVAL_MS;
}

bool DHT::read(bool force)
{
	const struct dht22_config cfg = { pin_ };
	struct climate_sample s;
	unsigned long now = millis();
	int rc;

	if (!force && now - last_read_ms_ < MIN_INTERVAL_MS)
		return last_result_;
	last_read_ms_ = now;
	rc = attached_ ? dht22_read(&cfg, &s) : -ETIMEDOUT;
	if (rc == 0) {
		temperature_c_ = (float)s.temp_dc / 10.0f;
		humidity_pct_ = (float)s.humidity_dpct / 10.0f;
		runtime_counters().readings_ok++;
	} else {
		runtime_counters().readings_failed++;
	}
	runtime_set_climate(rc, temperature_c_, humidity_pct_);
	last_result_ = rc == 0;
	return last_result_;
}

float DHT::readTemperature(bool S, bool force)
{
	if (!read(force))
		return NAN;
	return S ? convertCtoF(temperature_c_) : temperature_c_;
}

float DHT::readHumidity(bool force)
{
	if (!read(force))
		return NAN;
	return humidity_pct_;
}

float DHT::computeHeatIndex(bool isFahrenheit)
{
	return computeHeatIndex(readTemperature(isFahrenheit), readHumidity(), isFahrenheit);
}

/* The US National Weather Service's heat index: Steadman's simple formula
 * below 80 F, else the Rothfusz regression with its two adjustments. */
float DHT::computeHeatIndex(float temperature, float percentHumidity, bool isFahrenheit)
{
	float t = isFahrenheit ? temperature : convertCtoF(temperature);
	float rh = percentHumidity;
	float hi = 0.5f * (t + 61.0f + ((t - 68.0f) * 1.2f) + (rh * 0.094f));

	if (hi > 79.0f) {
		hi = -42.379f + 2.04901523f * t + 10.14333127f * rh - 0.22475541f * t * rh -
		     0.00683783f * t * t - 0.05481717f * rh * rh + 0.00122874f * t * t * rh +
		     0.00085282f * t * rh * rh - 0.00000199f * t * t * rh * rh;
		if (rh < 13.0f && t >= 80.0f && t <= 112.0f)
			hi -= ((13.0f - rh) * 0.25f) * sqrtf((17.0f - fabsf(t - 95.0f)) * 0.05882f);
		else if (rh > 85.0f && t >= 80.0f && t <= 87.0f)
			hi += ((rh - 85.0f) * 0.1f) * ((87.0f - t) * 0.2f);
	}
	return isFahrenheit ? hi : convertFtoC(hi);
}
