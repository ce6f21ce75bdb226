// Test sketch: the right SSID with a wrong password never associates.
#include <WiFi.h>

int last = -1;

void setup() {
  Serial.begin(115200);
  WiFi.begin("greenhouse", "not-the-password");
}

void loop() {
  int s = WiFi.status();
  if (s != last) {
    Serial.printf("wifi status %d\n", s);
    last = s;
  }
  delay(200);
}
