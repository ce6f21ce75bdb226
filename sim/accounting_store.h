/* The run's per-device accounts, written into its record at the end. */
#ifndef SIM_ACCOUNTING_STORE_H
#define SIM_ACCOUNTING_STORE_H

#include <stddef.h>

#include "accounting.h"

struct accounting_row {
	const char *device_id;
	struct accounting_result r;
};

/*
 * Replace the device_accounts table of the record at @db_path with @rows,
 * in one transaction. Returns 0, or a negative errno with the reason in
 * @err (a full disk: the summary still has the figures).
 */
int accounting_store_write(const char *db_path, const struct accounting_row *rows, size_t n,
			   char *err, size_t errlen);

#endif /* SIM_ACCOUNTING_STORE_H */
