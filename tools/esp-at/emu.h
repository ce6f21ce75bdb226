/* What the emulator's files share: the serial side's output and the log. */
#ifndef ESP_AT_EMU_H
#define ESP_AT_EMU_H

#include <stddef.h>

#define LINE_MAX_BYTES 1024
#define ARGS_MAX 12
#define ARG_BYTES 512

/* To the serial side (the MCU); dropped while nobody is attached. */
void emu_out(const void *buf, size_t len);
void emu_outs(const char *s);
void emu_outf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* To stderr with -v. */
void emu_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* ESP_AT_EMU_H */
