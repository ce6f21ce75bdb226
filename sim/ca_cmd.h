/* `robofleet ca`: a credentials directory (pki.h) for a real deployment. */
#ifndef SIM_CA_CMD_H
#define SIM_CA_CMD_H

/* Returns the process exit status: 0, 1 (failed), 2 (bad usage or input). */
int ca_cmd_main(int argc, char **argv);

#endif /* SIM_CA_CMD_H */
