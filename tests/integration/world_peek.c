/* Test helper: print one device's slot of a world file as key=value words. */
#include <stdio.h>
#include <string.h>

#include "world.h"

int main(int argc, char **argv)
{
	struct world w;

	if (argc != 3 || world_open(argv[1], &w) < 0) {
		fprintf(stderr, "usage: world_peek WORLD DEVICE_ID\n");
		return 2;
	}
	for (uint32_t i = 0; i < w.hdr->slot_count; i++) {
		struct world_slot *s = world_get_slot(&w, i);
		struct world_faults f;
		struct world_report rep;

		if (strcmp(s->device_id, argv[2]))
			continue;
		memset(&f, 0, sizeof(f));
		world_read_faults(s, &f);
		memset(&rep, 0, sizeof(rep));
		world_read_report(s, &rep);
		printf("link_mode=%u power=%u state=%u\n", f.link_mode, (unsigned)atomic_load(&s->power),
		       rep.state);
		world_close(&w);
		return 0;
	}
	world_close(&w);
	return 1;
}
