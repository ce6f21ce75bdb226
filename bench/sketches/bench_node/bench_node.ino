// bench_node: the sketch the cost benchmark runs (bench/sketch_cost.sh): once a
// second a DHT22 and an HC-SR04 reading as one JSON message on
// sensors/<id>/data (the contract's "sensors" object, without boot and seq),
// as robofleet's robot publishes at 1 Hz, with the
// provisioned id, a retained online status and an offline will.
#include <WiFi.h>
#include <PubSubClient.h>
#include <DHT.h>
#include <Preferences.h>

DHT dht(23, DHT22);
WiFiClient net;
PubSubClient mqtt(net);
String id = "bench";
String dataTopic, statusTopic;
unsigned long last = 0;

void setup() {
  Preferences factory;
  if (factory.begin("robofleet", true)) {
    id = factory.getString("id", id);
    factory.end();
  }
  dataTopic = "sensors/" + id + "/data";
  statusTopic = "sensors/" + id + "/status";
  dht.begin();
  pinMode(5, OUTPUT);
  pinMode(18, INPUT);
  WiFi.begin("bench", "bench");
  mqtt.setServer("broker", 1883);
  mqtt.setKeepAlive(60);
}

void loop() {
  if (WiFi.status() != WL_CONNECTED) {
    delay(100);
    return;
  }
  if (!mqtt.connected()) {
    if (!mqtt.connect(id.c_str(), statusTopic.c_str(), 1, true, "offline")) {
      delay(1000);
      return;
    }
    mqtt.publish(statusTopic.c_str(), "online", true);
  }
  mqtt.loop();
  if (millis() - last < 1000) {
    return;
  }
  last = millis();
  float t = dht.readTemperature();
  float h = dht.readHumidity();
  digitalWrite(5, HIGH);
  delayMicroseconds(10);
  digitalWrite(5, LOW);
  unsigned long echo = pulseIn(18, HIGH, 30000);
  char json[128];
  snprintf(json, sizeof(json),
           "{\"sensors\":{\"temperature\":%.1f,\"humidity\":%.1f,\"distance\":%.1f}}",
           t, h, echo / 58.3);
  mqtt.publish(dataTopic.c_str(), json);
}
