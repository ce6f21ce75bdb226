/* `robofleet query` and `robofleet export`: read a run's record. */
#ifndef SIM_QUERY_H
#define SIM_QUERY_H

/* Both return the process exit status: 0, 1 (failed), 2 (bad usage). */
int query_main(int argc, char **argv);
int export_main(int argc, char **argv);

#endif /* SIM_QUERY_H */
