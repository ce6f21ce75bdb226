// Test sketch: a sketch that blocks in delay() for more than twice its
// keepalive sends no PINGREQ, so the broker drops it and publishes its
// will. It says hello once subscribed, blocks when the test says "go",
// then reports what it saw after connecting again.
#include <WiFi.h>
#include <PubSubClient.h>

WiFiClient net;
PubSubClient mqtt(net);
bool go = false;

void onMessage(char *topic, byte *payload, unsigned int length) {
  go = true;
}

void setup() {
  Serial.begin(115200);
  WiFi.begin("lab", "secret");
  while (WiFi.status() != WL_CONNECTED) {
    delay(100);
  }
  mqtt.setServer("broker.local", 1883);
  mqtt.setKeepAlive(5);
  mqtt.setCallback(onMessage);
  if (!mqtt.connect("ka-client", "test/ka/will", 0, false, "dropped")) {
    Serial.printf("connect failed state %d\n", mqtt.state());
    return;
  }
  mqtt.subscribe("test/go");
  mqtt.publish("test/ka/hello", "1");
  while (!go) {
    mqtt.loop();
  }
  mqtt.publish("test/ka/before", "1");
  Serial.println("blocking for 12 s");
  delay(12000);
  bool up = mqtt.connected();
  char seen[48];
  snprintf(seen, sizeof(seen), "connected=%d state=%d", up ? 1 : 0, mqtt.state());
  Serial.printf("after delay %s\n", seen);
  while (!mqtt.connect("ka-client")) {
    delay(500);
  }
  mqtt.publish("test/ka/after", seen);
}

void loop() {
  delay(1000);
}
