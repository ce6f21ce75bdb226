// SensorToCloud: an ESP32 sensor node as people write them (WiFi, PubSubClient,
// DHT22, an HC-SR04 read with pulseIn), written to behave well in a fleet:
// the id a factory provisioned (NVS namespace robofleet, key id), else one
// from its own MAC, a retained online/offline status through the will,
// reconnects that never block loop(), no number published for a failed read,
// and start/stop commands obeyed. It builds unchanged for a real ESP32 with
// the Arduino IDE (WiFi, PubSubClient 2.8, Adafruit DHT sensor library).
#include <WiFi.h>
#include <PubSubClient.h>
#include <DHT.h>
#include <Preferences.h>

const char *WIFI_SSID = "greenhouse";
const char *WIFI_PASSWORD = "change-me";
const char *MQTT_HOST = "mqtt.example.com";
const uint16_t MQTT_PORT = 1883;

const uint8_t DHT_PIN = 23;
const uint8_t TRIG_PIN = 5;
const uint8_t ECHO_PIN = 18;
const unsigned long PUBLISH_EVERY_MS = 5000;
const unsigned long ECHO_TIMEOUT_US = 30000;  // ~5 m: beyond the HC-SR04's range

DHT dht(DHT_PIN, DHT22);
WiFiClient net;
PubSubClient mqtt(net);

String nodeId;
String topicPrefix;
bool running = true;
unsigned long lastPublish = 0;
unsigned long lastAttempt = 0;
unsigned long retryMs = 1000;

String topic(const char *leaf) {
  return topicPrefix + leaf;
}

void onCommand(char *t, byte *payload, unsigned int length) {
  String command((const char *)payload, length);
  command.trim();
  if (command == "start") {
    running = true;
  } else if (command == "stop") {
    running = false;
  } else {
    Serial.printf("ignored command '%s' on %s\n", command.c_str(), t);
    return;
  }
  Serial.printf("command %s\n", command.c_str());
}

// One attempt, then back to loop(): a node that blocks here stops sampling
// and misses its keepalive. The wait doubles up to a minute.
void tryConnect() {
  if (millis() - lastAttempt < retryMs) {
    return;
  }
  lastAttempt = millis();
  String status = topic("status");
  if (mqtt.connect(nodeId.c_str(), status.c_str(), 1, true, "offline")) {
    mqtt.publish(status.c_str(), "online", true);
    mqtt.subscribe(topic("command").c_str(), 1);
    retryMs = 1000;
    Serial.println("connected to " + String(MQTT_HOST));
  } else {
    Serial.printf("connect failed, state %d, next try in %lu ms\n", mqtt.state(), retryMs);
    retryMs = retryMs < 60000 ? retryMs * 2 : 60000;
  }
}

float readDistanceCm() {
  digitalWrite(TRIG_PIN, LOW);
  delayMicroseconds(2);
  digitalWrite(TRIG_PIN, HIGH);
  delayMicroseconds(10);
  digitalWrite(TRIG_PIN, LOW);
  unsigned long echoUs = pulseIn(ECHO_PIN, HIGH, ECHO_TIMEOUT_US);
  if (echoUs == 0) {
    return NAN;
  }
  return echoUs / 58.3f;
}

void publishNumber(const char *leaf, float value) {
  if (isnan(value)) {
    return;  // a failed read is not a number
  }
  char text[16];
  dtostrf(value, 1, 1, text);
  mqtt.publish(topic(leaf).c_str(), text);
}

void setup() {
  Serial.begin(115200);
  pinMode(TRIG_PIN, OUTPUT);
  pinMode(ECHO_PIN, INPUT);
  dht.begin();

  Preferences factory;
  if (factory.begin("robofleet", true)) {
    nodeId = factory.getString("id");
    factory.end();
  }
  if (nodeId.isEmpty()) {
    nodeId = "node-" + WiFi.macAddress();
    nodeId.replace(":", "");
    nodeId.toLowerCase();
  }
  topicPrefix = "sensors/" + nodeId + "/";
  Serial.println("this is " + nodeId);

  WiFi.mode(WIFI_STA);
  WiFi.setAutoReconnect(true);
  WiFi.begin(WIFI_SSID, WIFI_PASSWORD);
  mqtt.setServer(MQTT_HOST, MQTT_PORT);
  mqtt.setCallback(onCommand);
}

void loop() {
  if (WiFi.status() == WL_CONNECTED && !mqtt.connected()) {
    tryConnect();
  }
  mqtt.loop();

  if (running && millis() - lastPublish >= PUBLISH_EVERY_MS) {
    lastPublish = millis();
    float t = dht.readTemperature();
    float h = dht.readHumidity();
    float d = readDistanceCm();
    if (mqtt.connected()) {
      publishNumber("temperature", t);
      publishNumber("humidity", h);
      publishNumber("distance", d);
    }
  }
}
