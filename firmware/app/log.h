/* printf-style logging for the firmware, over hal_log. */
#ifndef APP_LOG_H
#define APP_LOG_H

#include "hal_log.h"

#if defined(__GNUC__)
#define ROBOT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ROBOT_PRINTF(a, b)
#endif

void robot_log(enum hal_log_level level, const char *fmt, ...) ROBOT_PRINTF(2, 3);

#define LOG_ERROR(...) robot_log(HAL_LOG_ERROR, __VA_ARGS__)
#define LOG_WARN(...) robot_log(HAL_LOG_WARN, __VA_ARGS__)
#define LOG_INFO(...) robot_log(HAL_LOG_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) robot_log(HAL_LOG_DEBUG, __VA_ARGS__)

#endif /* APP_LOG_H */
