// ultrasonic: the classic HC-SR04 sketch (a 10 us trigger pulse, the echo
// timed with pulseIn, distance = duration * 0.034 / 2) publishing the
// distance in cm every two seconds on sensors/<id>/distance. The id comes
// from the NVS namespace "robofleet" (key "id") a factory provisions.
#include <WiFi.h>
#include <PubSubClient.h>
#include <Preferences.h>

const int trigPin = 5;
const int echoPin = 18;

const char *ssid = "greenhouse";
const char *password = "change-me";

WiFiClient espClient;
PubSubClient client(espClient);
String distanceTopic;
String id = "sonar01";
unsigned long lastMsg = 0;

void setup() {
  Serial.begin(115200);
  pinMode(trigPin, OUTPUT);
  pinMode(echoPin, INPUT);
  Preferences factory;
  if (factory.begin("robofleet", true)) {
    id = factory.getString("id", id);
    factory.end();
  }
  distanceTopic = "sensors/" + id + "/distance";
  WiFi.begin(ssid, password);
  while (WiFi.status() != WL_CONNECTED) {
    delay(500);
  }
  client.setServer("mqtt.local", 1883);
}

void loop() {
  if (!client.connected()) {
    if (!client.connect(id.c_str())) {
      delay(5000);
      return;
    }
  }
  client.loop();
  if (millis() - lastMsg < 2000) {
    return;
  }
  lastMsg = millis();

  digitalWrite(trigPin, LOW);
  delayMicroseconds(2);
  digitalWrite(trigPin, HIGH);
  delayMicroseconds(10);
  digitalWrite(trigPin, LOW);
  long duration = pulseIn(echoPin, HIGH, 30000);
  if (duration == 0) {
    Serial.println("no echo");
    return;
  }
  float distanceCm = duration * 0.034 / 2;
  Serial.print("Distance (cm): ");
  Serial.println(distanceCm);
  client.publish(distanceTopic.c_str(), String(distanceCm, 1).c_str());
}
