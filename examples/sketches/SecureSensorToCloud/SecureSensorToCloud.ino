// SecureSensorToCloud: SensorToCloud's sensor node over TLS, provisioned the
// way a fleet of ESP32s is. The factory writes each board's identity and
// credentials into NVS (namespace "robofleet": id, mqtt_user, mqtt_pass and
// the PEM text of ca_cert, client_cert, client_key); the sketch reads them at
// boot, so one image serves the whole fleet and no secret is in the source.
// The broker's certificate is checked against the CA and against the broker's
// name (which must be in that certificate); with a client certificate the
// broker knows the node by it (mutual TLS), with a user and password by
// those. Without a CA it speaks plain MQTT on 1883, for an open bench broker.
// It publishes one JSON document per reading on sensors/<id>/data, keeps a
// retained online/offline status through the will, reconnects without
// blocking loop() and obeys start/stop. It builds unchanged for a real ESP32
// with the Arduino IDE (WiFi, WiFiClientSecure, PubSubClient 2.8, Adafruit
// DHT sensor library).
#include <WiFi.h>
#include <WiFiClientSecure.h>
#include <PubSubClient.h>
#include <DHT.h>
#include <Preferences.h>

const char *WIFI_SSID = "greenhouse";
const char *WIFI_PASSWORD = "change-me";
const char *MQTT_HOST = "mqtt.example.com";  // a name in the broker's certificate
const uint16_t MQTT_TLS_PORT = 8883;
const uint16_t MQTT_PLAIN_PORT = 1883;

const uint8_t DHT_PIN = 23;
const uint8_t TRIG_PIN = 5;
const uint8_t ECHO_PIN = 18;
const unsigned long PUBLISH_EVERY_MS = 5000;
const unsigned long ECHO_TIMEOUT_US = 30000;  // ~5 m: beyond the HC-SR04's range

DHT dht(DHT_PIN, DHT22);
WiFiClientSecure tlsNet;
WiFiClient plainNet;
PubSubClient mqtt;

// What the factory provisioned. Kept for the whole run: the ESP32's
// WiFiClientSecure keeps pointers to the PEM text, not copies.
String nodeId;
String mqttUser;
String mqttPass;
String caCert;
String clientCert;
String clientKey;

String topicPrefix;
bool secure = false;
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

void readProvisioning() {
  Preferences factory;
  if (factory.begin("robofleet", true)) {
    nodeId = factory.getString("id");
    mqttUser = factory.getString("mqtt_user");
    mqttPass = factory.getString("mqtt_pass");
    caCert = factory.getString("ca_cert");
    clientCert = factory.getString("client_cert");
    clientKey = factory.getString("client_key");
    factory.end();
  }
  if (nodeId.isEmpty()) {
    nodeId = "node-" + WiFi.macAddress();
    nodeId.replace(":", "");
    nodeId.toLowerCase();
  }
}

// One attempt, then back to loop(): a node that blocks here stops sampling
// and misses its keepalive. The wait doubles up to a minute.
void tryConnect() {
  if (millis() - lastAttempt < retryMs) {
    return;
  }
  lastAttempt = millis();
  String status = topic("status");
  bool ok;
  if (mqttUser.length() > 0) {
    ok = mqtt.connect(nodeId.c_str(), mqttUser.c_str(), mqttPass.c_str(), status.c_str(), 1,
                      true, "offline");
  } else {
    ok = mqtt.connect(nodeId.c_str(), status.c_str(), 1, true, "offline");
  }
  if (ok) {
    mqtt.publish(status.c_str(), "online", true);
    mqtt.subscribe(topic("command").c_str(), 1);
    retryMs = 1000;
    Serial.printf("connected to %s over %s\n", MQTT_HOST, secure ? "TLS" : "plain TCP");
    return;
  }
  if (secure) {
    char why[160];
    int code = tlsNet.lastError(why, sizeof(why));
    if (code != 0) {
      Serial.printf("TLS error %d: %s\n", code, why);
    }
  }
  Serial.printf("connect failed, state %d, next try in %lu ms\n", mqtt.state(), retryMs);
  retryMs = retryMs < 60000 ? retryMs * 2 : 60000;
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

// {"device_id":"...","sensors":{"temperature":21.5,...}}: a failed read is
// left out, not sent as a number.
void publishReading(float t, float h, float d) {
  String json = "{\"device_id\":\"" + nodeId + "\",\"sensors\":{";
  const char *names[3] = {"temperature", "humidity", "distance"};
  float values[3] = {t, h, d};
  bool first = true;
  for (int i = 0; i < 3; i++) {
    if (isnan(values[i])) {
      continue;
    }
    char text[16];
    dtostrf(values[i], 1, 1, text);
    json += String(first ? "" : ",") + "\"" + names[i] + "\":" + text;
    first = false;
  }
  json += "}}";
  if (!first) {
    mqtt.publish(topic("data").c_str(), json.c_str());
  }
}

void setup() {
  Serial.begin(115200);
  pinMode(TRIG_PIN, OUTPUT);
  pinMode(ECHO_PIN, INPUT);
  dht.begin();

  readProvisioning();
  topicPrefix = "sensors/" + nodeId + "/";
  secure = caCert.length() > 0;
  if (secure) {
    tlsNet.setCACert(caCert.c_str());
    if (clientCert.length() > 0 && clientKey.length() > 0) {
      tlsNet.setCertificate(clientCert.c_str());
      tlsNet.setPrivateKey(clientKey.c_str());
    }
    mqtt.setClient(tlsNet);
    mqtt.setServer(MQTT_HOST, MQTT_TLS_PORT);
  } else {
    mqtt.setClient(plainNet);
    mqtt.setServer(MQTT_HOST, MQTT_PLAIN_PORT);
  }
  mqtt.setCallback(onCommand);
  Serial.printf("this is %s, %s%s\n", nodeId.c_str(),
                secure ? "TLS with the provisioned CA" : "no CA provisioned: plain MQTT",
                clientCert.length() > 0 ? " and a client certificate" : "");

  WiFi.mode(WIFI_STA);
  WiFi.setAutoReconnect(true);
  WiFi.begin(WIFI_SSID, WIFI_PASSWORD);
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
      publishReading(t, h, d);
    }
  }
}
