// Arduino.h: the Arduino/ESP32 core API a sketch sees, implemented over the robofleet shim.
#ifndef ARDUINO_H
#define ARDUINO_H

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <cmath>

#include "Esp.h"
#include "HardwareSerial.h"
#include "IPAddress.h"
#include "Print.h"
#include "Stream.h"
#include "WString.h"

/* The ESP32 core brings these names into the global namespace the same way,
 * so min(a, b) of two different types fails to compile here as it does there. */
using std::abs;
using std::isinf;
using std::isnan;
using std::max;
using std::min;
using ::round;

typedef uint8_t byte;
typedef bool boolean;
typedef uint16_t word;

#define ARDUINO 10819
#define ARDUINO_ARCH_ESP32 1
#ifndef ESP32
#define ESP32 1
#endif

#define HIGH 0x1
#define LOW 0x0
/* The ESP32 core's pin mode values. */
#define INPUT 0x01
#define OUTPUT 0x03
#define PULLUP 0x04
#define INPUT_PULLUP 0x05
#define PULLDOWN 0x08
#define INPUT_PULLDOWN 0x09
#define OPEN_DRAIN 0x10
#define OUTPUT_OPEN_DRAIN 0x12
#define LED_BUILTIN 2

#define PI 3.1415926535897932384626433832795
#define HALF_PI 1.5707963267948966192313216916398
#define TWO_PI 6.283185307179586476925286766559
#define DEG_TO_RAD 0.017453292519943295769236907684886
#define RAD_TO_DEG 57.295779513082320876798154814105
#define EULER 2.718281828459045235360287471352

#define constrain(amt, low, high) ((amt) < (low) ? (low) : ((amt) > (high) ? (high) : (amt)))
#define radians(deg) ((deg) * DEG_TO_RAD)
#define degrees(rad) ((rad) * RAD_TO_DEG)
#define sq(x) ((x) * (x))

#define lowByte(w) ((uint8_t)((w) & 0xff))
#define highByte(w) ((uint8_t)((w) >> 8))
#define bitRead(value, bit) (((value) >> (bit)) & 0x01)
#define bitSet(value, bit) ((value) |= (1UL << (bit)))
#define bitClear(value, bit) ((value) &= ~(1UL << (bit)))
#define bitToggle(value, bit) ((value) ^= (1UL << (bit)))
#define bitWrite(value, bit, bitvalue) ((bitvalue) ? bitSet(value, bit) : bitClear(value, bit))
#define bit(b) (1UL << (b))

/* Flash strings are ordinary memory here. */
#define PROGMEM
#define PGM_P const char *
#define PSTR(s) (s)
#define pgm_read_byte(addr) (*(const uint8_t *)(addr))
#define pgm_read_word(addr) (*(const uint16_t *)(addr))
#define pgm_read_dword(addr) (*(const uint32_t *)(addr))
#define pgm_read_float(addr) (*(const float *)(addr))
#define pgm_read_ptr(addr) (*(void *const *)(addr))
#define strlen_P strlen
#define strcpy_P strcpy
#define strncpy_P strncpy
#define strcmp_P strcmp
#define memcpy_P memcpy
#define sprintf_P sprintf
#define snprintf_P snprintf

/* The sketch's two entry points. */
void setup(void);
void loop(void);

/* ---- time: the virtual robot's clock; delay() lets the simulation run -- */
unsigned long millis(void);
unsigned long micros(void);
void delay(uint32_t ms);
void delayMicroseconds(uint32_t us);
void yield(void);

/* ---- pins: the shim's virtual pins and their sensor models ------------- */
void pinMode(uint8_t pin, uint8_t mode);
void digitalWrite(uint8_t pin, uint8_t val);
int digitalRead(uint8_t pin);
/* Width of a pulse at @state on @pin in microseconds, 0 on timeout. */
unsigned long pulseIn(uint8_t pin, uint8_t state, unsigned long timeout_us = 1000000UL);
unsigned long pulseInLong(uint8_t pin, uint8_t state, unsigned long timeout_us = 1000000UL);
/* No analog front end is modelled: reads 0, writes are ignored. */
uint16_t analogRead(uint8_t pin);
void analogWrite(uint8_t pin, int value);
void noInterrupts(void);
void interrupts(void);

/* ---- numbers ------------------------------------------------------------ */
/* Seeded per device (the run's seed and the device id): the same run
 * replays the same numbers; randomSeed() starts a stream of its own. */
long random(long howbig);
long random(long howsmall, long howbig);
void randomSeed(unsigned long seed);
uint32_t esp_random(void);
long map(long x, long in_min, long in_max, long out_min, long out_max);

/* avr-libc's number formatting, which sketches use for payloads. */
char *dtostrf(double val, signed char width, unsigned char prec, char *sout);
char *itoa(int value, char *str, int base);
char *ltoa(long value, char *str, int base);
char *utoa(unsigned int value, char *str, int base);
char *ultoa(unsigned long value, char *str, int base);

#endif /* ARDUINO_H */
