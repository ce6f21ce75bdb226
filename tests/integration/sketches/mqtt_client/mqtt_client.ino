// Test sketch: PubSubClient's connect with will and credentials, subscribe,
// the 256-byte default buffer, a streamed publish, and an echo of what it
// receives. It says hello once subscribed and starts publishing when the
// test says "go", so nothing races; it prints each result for the test to
// check.
#include <WiFi.h>
#include <PubSubClient.h>

WiFiClient net;
PubSubClient mqtt(net);
bool go = false;
bool done = false;

void setup() {
  Serial.begin(115200);
  WiFi.mode(WIFI_STA);
  WiFi.begin("lab", "secret");
  while (WiFi.status() != WL_CONNECTED) {
    delay(100);
  }
  Serial.println("mac " + WiFi.macAddress());
  mqtt.setServer("mqtt.example.com", 1883);
  mqtt.setCallback(onMessage);
  while (!mqtt.connect("basic-client", "user", "pass", "test/basic/will", 1, false, "gone")) {
    Serial.printf("connect failed state %d\n", mqtt.state());
    delay(500);
  }
  Serial.printf("connected state %d\n", mqtt.state());
  Serial.printf("subscribe %d\n", mqtt.subscribe("test/basic/in", 1));
  mqtt.subscribe("test/go");
  mqtt.publish("test/basic/hello", "1");
}

void onMessage(char *topic, byte *payload, unsigned int length) {
  String body((const char *)payload, length);
  Serial.printf("got [%s] %s\n", topic, body.c_str());
  if (String(topic) == "test/go") {
    go = true;
    return;
  }
  String reply = "echo:" + body;
  mqtt.publish("test/basic/echo", reply.c_str());
}

void publishAll() {
  static char big[301];
  memset(big, 'x', 300);
  Serial.printf("big default %d\n", mqtt.publish("test/basic/big", big));
  Serial.printf("buffer 512 %d\n", mqtt.setBufferSize(512));
  Serial.printf("big 512 %d\n", mqtt.publish("test/basic/big", big));
  mqtt.beginPublish("test/basic/streamed", 5, false);
  mqtt.print("hello");
  mqtt.endPublish();
  mqtt.publish("test/basic/ready", "1");
}

void loop() {
  mqtt.loop();
  if (go && !done) {
    publishAll();
    done = true;
  }
}
