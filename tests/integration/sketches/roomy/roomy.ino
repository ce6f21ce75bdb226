// Test sketch: publishes on the tutorial's room layout, sensors/<room>/temperature,
// with the room a factory provisioned (NVS namespace robofleet, key room).
#include <WiFi.h>
#include <PubSubClient.h>
#include <DHT.h>
#include <Preferences.h>

DHT dht(23, DHT22);
WiFiClient net;
PubSubClient mqtt(net);
String room = "nowhere";
String id = "roomy";
unsigned long last = 0;

void setup() {
  Preferences factory;
  if (factory.begin("robofleet", true)) {
    room = factory.getString("room", room);
    id = factory.getString("id", id);
    factory.end();
  }
  Serial.begin(115200);
  Serial.println("room " + room);
  dht.begin();
  WiFi.begin("lab", "secret");
  mqtt.setServer("broker.local", 1883);
}

void loop() {
  if (WiFi.status() != WL_CONNECTED) {
    delay(100);
    return;
  }
  if (!mqtt.connected() && !mqtt.connect(id.c_str())) {
    delay(1000);
    return;
  }
  mqtt.loop();
  if (millis() - last >= 2000) {
    last = millis();
    String topic = "sensors/" + room + "/temperature";
    mqtt.publish(topic.c_str(), String(dht.readTemperature(), 1).c_str());
  }
}
