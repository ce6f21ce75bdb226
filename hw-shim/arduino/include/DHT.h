// DHT: the Adafruit DHT sensor library's API, reading the shim's pin-level DHT22 model through the firmware's driver.
#ifndef DHT_H
#define DHT_H

#include "Arduino.h"

#define DHT11 11
#define DHT12 12
#define DHT21 21
#define DHT22 22
#define AM2301 21

class DHT {
public:
	DHT(uint8_t pin, uint8_t type, uint8_t count = 6);
	void begin(uint8_t usec = 55);
	/* Celsius, or Fahrenheit with @S; NAN when the sensor did not answer. */
	float readTemperature(bool S = false, bool force = false);
	float convertCtoF(float c) { return c * 1.8f + 32; }
	float convertFtoC(float f) { return (f - 32) * 0.55555f; }
	float computeHeatIndex(bool isFahrenheit = true);
	float computeHeatIndex(float temperature, float percentHumidity, bool isFahrenheit = true);
	float readHumidity(bool force = false);
	/* A conversion, at most one every two seconds (the sensor's limit):
	 * within that, the previous outcome is returned again. */
	bool read(bool force = false);

private:
	uint8_t pin_;
	uint8_t type_;
	bool attached_ = false;
	bool last_result_ = false;
	unsigned long last_read_ms_ = 0;
	float temperature_c_ = NAN;
	float humidity_pct_ = NAN;
};

#endif /* DHT_H */
