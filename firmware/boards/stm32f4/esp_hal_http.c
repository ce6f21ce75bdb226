/* hal_http: ESP-AT's HTTP client commands (esp_at_http.c) over USART1. */
#include "board.h"
#include "esp_at.h"
#include "hal_http.h"
#include "hal_time.h"

int hal_http_init(const struct hal_http_callbacks *cb, void *ctx)
{
	return esp_at_http_init(stm32_esp(), cb, ctx);
}

int hal_http_request(const struct hal_http_request *req)
{
	int rc = esp_at_http_request(stm32_esp(), req, hal_time_now_us());

	if (rc == 0)
		stm32_esp_pump(); /* send it now if the module is free */
	return rc;
}

bool hal_http_busy(void)
{
	return esp_at_http_busy(stm32_esp());
}

void hal_http_abort(void)
{
	esp_at_http_abort(stm32_esp());
}

int hal_http_service(void)
{
	stm32_esp_pump();
	return esp_at_http_service(stm32_esp());
}
