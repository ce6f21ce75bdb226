/*
 * libFuzzer target: topic templates and the fleet map on arbitrary input.
 * Input: one byte choosing role and format, a template, a newline, a topic.
 * Beyond not crashing: a topic a template matches expands back from its
 * captures to itself, the template's filter covers it, and the map agrees.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "topic_layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[TOPIC_TEMPLATE_MAX + 8], topic[512], why[200], out[600], filter[TOPIC_TEMPLATE_MAX];
	char id[TOPIC_NAME_MAX + 1] = "", room[TOPIC_NAME_MAX + 1] = "";
	struct topic_template t;
	struct topic_captures c;
	struct topic_layout l;
	struct topic_map *m;
	struct topic_attribution a;
	const char *filters[8];
	const uint8_t *nl;
	size_t tlen, plen;
	enum topic_role role;

	if (size < 1)
		return 0;
	role = (enum topic_role)(data[0] % 3);
	nl = memchr(data + 1, '\n', size - 1);
	tlen = nl ? (size_t)(nl - data - 1) : size - 1;
	if (tlen >= sizeof(text))
		return 0;
	memcpy(text, data + 1, tlen);
	text[tlen] = '\0';
	plen = nl ? size - tlen - 2 : 0;
	if (plen >= sizeof(topic))
		return 0;
	if (plen)
		memcpy(topic, nl + 1, plen);
	topic[plen] = '\0';
	if (memchr(text, '\0', tlen) || memchr(topic, '\0', plen))
		return 0;

	if (topic_template_parse(text, role, (enum topic_format)((data[0] >> 2) & 1), &t, why,
				 sizeof(why)) < 0) {
		if (!why[0])
			abort();
		return 0;
	}
	if (strcmp(t.text, text) != 0 || !topic_templates_overlap(&t, &t))
		abort();
	topic_template_filter(&t, filter, sizeof(filter));
	if (!topic_template_match(&t, topic, &c))
		return 0;
	if (!topic_filter_covers(filter, topic))
		abort();
	if (c.id_len) {
		memcpy(id, c.id, c.id_len);
		id[c.id_len] = '\0';
	}
	if (c.room_len) {
		memcpy(room, c.room, c.room_len);
		room[c.room_len] = '\0';
	}
	if (topic_template_expand(&t, id, room, c.metric, out, sizeof(out)) < 0 ||
	    strcmp(out, topic) != 0)
		abort();
	if (!topic_template_match_own(&t, topic, id, room, NULL))
		abort();

	/* The same template in a map: it attributes the topic to the device
	 * its {id} names, the room's device, or the one device. */
	memset(&l, 0, sizeof(l));
	topic_layout_default(&l, TOPIC_FORMAT_PLAIN);
	if (role == TOPIC_ROLE_READINGS)
		l.readings[0] = t;
	else if (role == TOPIC_ROLE_STATUS)
		l.status = t;
	else
		l.command = t;
	if (topic_map_create(&m) < 0)
		return 0;
	if (topic_map_add_layout(m, &l, "only") < 0 ||
	    (c.room_len && topic_map_add_room(m, room, "roomdev") < 0) || topic_map_finish(m) < 0)
		abort();
	if (topic_map_attribute(m, topic, &a) != 0)
		abort();
	if (topic_map_filters(m, NULL, filters, 8) < 1)
		abort();
	topic_map_free(m);
	return 0;
}
