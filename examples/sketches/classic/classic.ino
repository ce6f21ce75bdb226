// classic: an ESP32 sensor node in the style most tutorials teach (WiFi,
// PubSubClient, a DHT22, plain numbers on sensors/<id>/temperature and
// humidity, a delay(5000) between reconnect attempts, no buffering). One
// thing is added so a fleet of it works: it reads its id from the NVS
// namespace "robofleet" (key "id") a factory provisions, instead of a
// hard-coded one. While it is offline its readings are simply not sent.
#include <WiFi.h>
#include <PubSubClient.h>
#include <DHT.h>
#include <Preferences.h>

const char *ssid = "greenhouse";
const char *password = "change-me";
const char *mqtt_server = "broker.hivemq.com";

#define DHTPIN 23
#define DHTTYPE DHT22

DHT dht(DHTPIN, DHTTYPE);
WiFiClient espClient;
PubSubClient client(espClient);

String id = "robot01";
String tempTopic, humTopic, statusTopic, commandTopic;
bool running = true;
unsigned long lastMsg = 0;

void callback(char *topic, byte *payload, unsigned int length) {
  String msg;
  for (unsigned int i = 0; i < length; i++) {
    msg += (char)payload[i];
  }
  Serial.print("Message arrived [");
  Serial.print(topic);
  Serial.print("] ");
  Serial.println(msg);
  if (msg == "stop") {
    running = false;
  } else if (msg == "start") {
    running = true;
  }
}

void setup_wifi() {
  Serial.print("Connecting to ");
  Serial.println(ssid);
  WiFi.begin(ssid, password);
  while (WiFi.status() != WL_CONNECTED) {
    delay(500);
    Serial.print(".");
  }
  Serial.println("");
  Serial.print("WiFi connected, IP address: ");
  Serial.println(WiFi.localIP());
}

void reconnect() {
  Serial.print("Attempting MQTT connection...");
  if (client.connect(id.c_str(), statusTopic.c_str(), 1, true, "offline")) {
    Serial.println("connected");
    client.publish(statusTopic.c_str(), "online", true);
    client.subscribe(commandTopic.c_str());
  } else {
    Serial.print("failed, rc=");
    Serial.print(client.state());
    Serial.println(" try again in 5 seconds");
    delay(5000);
  }
}

void setup() {
  Serial.begin(115200);
  Preferences factory;
  if (factory.begin("robofleet", true)) {
    id = factory.getString("id", id);
    factory.end();
  }
  tempTopic = "sensors/" + id + "/temperature";
  humTopic = "sensors/" + id + "/humidity";
  statusTopic = "sensors/" + id + "/status";
  commandTopic = "sensors/" + id + "/command";
  dht.begin();
  setup_wifi();
  client.setServer(mqtt_server, 1883);
  client.setCallback(callback);
}

void loop() {
  if (!client.connected()) {
    reconnect();
  }
  client.loop();

  unsigned long now = millis();
  if (running && now - lastMsg > 5000) {
    lastMsg = now;
    float h = dht.readHumidity();
    float t = dht.readTemperature();
    if (isnan(h) || isnan(t)) {
      Serial.println("Failed to read from DHT sensor!");
      return;
    }
    char buf[8];
    dtostrf(t, 1, 2, buf);
    client.publish(tempTopic.c_str(), buf);
    dtostrf(h, 1, 2, buf);
    client.publish(humTopic.c_str(), buf);
  }
}
