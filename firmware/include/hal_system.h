/* HAL: device identity, configuration and power/lifecycle requests. */
#ifndef HAL_SYSTEM_H
#define HAL_SYSTEM_H

#include <stdbool.h>

struct robot_config;
struct robot_status;

/*
 * Fill @cfg with this device's identity and settings (command line, config
 * file, flash struct...). Starts from robot_config_defaults().
 * Returns 0, or -EINVAL when the stored configuration is unusable.
 */
int hal_system_load_config(struct robot_config *cfg);

/*
 * True once the board was asked to shut down gracefully (SIGTERM, a console
 * command, a power-fail interrupt). The application then publishes
 * `offline`, disconnects and returns. Cannot fail.
 */
bool hal_system_shutdown_requested(void);

/*
 * Hand the robot's state and counters to whoever watches the board (the
 * simulator's world file, a status LED, a diagnostics page). Called after
 * every step; must be cheap. Boards with nobody watching do nothing.
 * Cannot fail.
 */
void hal_system_report(const struct robot_status *status);

#endif /* HAL_SYSTEM_H */
