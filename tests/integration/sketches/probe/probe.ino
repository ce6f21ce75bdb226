// Test sketch: reports what the sketch API sees through faults (WiFi
// status and MQTT session changes, DHT readings, HC-SR04 echoes through
// pulseIn, a boot counter in Preferences, names the scenario's DNS
// resolves or refuses) as Serial lines the test reads back.
#include <WiFi.h>
#include <PubSubClient.h>
#include <DHT.h>
#include <Preferences.h>

#define TRIG_PIN 5
#define ECHO_PIN 18

DHT dht(23, DHT22);
WiFiClient net;
PubSubClient mqtt(net);
Preferences prefs;

int lastWifi = -1;
int lastMqtt = -1;
bool resolved = false;
unsigned long lastSample = 0;

void setup() {
  Serial.begin(115200);
  prefs.begin("probe", false);
  unsigned int boots = prefs.getUInt("boots", 0) + 1;
  prefs.putUInt("boots", boots);
  prefs.end();
  Serial.printf("boot count %u\n", boots);
  dht.begin();
  pinMode(TRIG_PIN, OUTPUT);
  pinMode(ECHO_PIN, INPUT);
  WiFi.begin("greenhouse", "hunter22");
  mqtt.setServer("broker.hivemq.com", 1883);
}

void report(const char *what, int now, int &last) {
  if (now != last) {
    Serial.printf("%s %d\n", what, now);
    last = now;
  }
}

void loop() {
  int w = WiFi.status();
  report("wifi status", w, lastWifi);
  if (w == WL_CONNECTED && !resolved) {
    IPAddress a;
    Serial.printf("resolve nowhere.example %d\n", WiFi.hostByName("nowhere.example", a));
    Serial.printf("resolve broker.hivemq.com %d\n", WiFi.hostByName("broker.hivemq.com", a));
    resolved = true;
  }
  if (w == WL_CONNECTED && !mqtt.connected()) {
    mqtt.connect("probe-client");
  }
  report("mqtt connected", mqtt.connected() ? 1 : 0, lastMqtt);
  mqtt.loop();

  if (millis() - lastSample >= 2000) {
    lastSample = millis();
    float t = dht.readTemperature();
    digitalWrite(TRIG_PIN, LOW);
    delayMicroseconds(2);
    digitalWrite(TRIG_PIN, HIGH);
    delayMicroseconds(10);
    digitalWrite(TRIG_PIN, LOW);
    unsigned long echo = pulseIn(ECHO_PIN, HIGH, 30000);
    Serial.printf("sample temp %.1f echo_us %lu cm %.1f\n", t, echo, echo / 58.3);
    if (mqtt.connected()) {
      mqtt.publish("sensors/probe/temperature", String(t, 1).c_str());
    }
  }
}
