/* HAL: where the firmware's log lines go (stderr, journald, a UART). */
#ifndef HAL_LOG_H
#define HAL_LOG_H

enum hal_log_level {
	HAL_LOG_ERROR,
	HAL_LOG_WARN,
	HAL_LOG_INFO,
	HAL_LOG_DEBUG,
};

/*
 * Emit one complete line (no trailing newline in @line). Cannot fail: a
 * board that cannot write drops the line.
 */
void hal_log_write(enum hal_log_level level, const char *line);

/* Lines above this level are not formatted at all. Cannot fail. */
enum hal_log_level hal_log_get_level(void);

#endif /* HAL_LOG_H */
