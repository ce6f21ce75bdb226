/*
 * The emulated module's HTTP AT commands (ESP-AT v2.2+ syntax): AT+SYSLOG,
 * AT+HTTPCLIENT, AT+HTTPCGET, AT+HTTPCPOST, AT+HTTPCPUT and AT+HTTPCHEAD,
 * each request done on the host (http_client.c) and answered as the
 * module answers: the body as +HTTPCLIENT:<n>,<data> chunks (+HTTPCGET,
 * +HTTPCPOST, +HTTPCPUT for those commands), then OK / SEND OK; a status
 * >= 400 or no answer as ERROR / SEND FAIL, preceded with AT+SYSLOG=1 by
 * ERR CODE:0x010a7xxx (xxx the status, 000 no connection).
 */
#ifndef ESP_AT_EMU_AT_HTTP_H
#define ESP_AT_EMU_AT_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "emu.h"

/*
 * Handle @line if it is one of these commands (@a, @n: its arguments).
 * Returns false if it is not. A command that takes data through the '>'
 * prompt sets *@data_want to the byte count to pass to at_http_data().
 */
bool at_http_handle(const char *line, char a[ARGS_MAX][ARG_BYTES], int n, size_t *data_want);
/* The data a prompted command asked for, all of it. */
void at_http_data(const char *buf, size_t len);
/* The module rebooted: settings back to their defaults. */
void at_http_reset(void);

#endif /* ESP_AT_EMU_AT_HTTP_H */
