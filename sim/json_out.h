/* Writing JSON by hand: the one string escaper summary.json and its merged form share. */
#ifndef SIM_JSON_OUT_H
#define SIM_JSON_OUT_H

#include <stdio.h>

/* @text as a JSON string ("..." with " \ and control bytes escaped), or null. */
void json_out_string(FILE *f, const char *text);

#endif /* SIM_JSON_OUT_H */
