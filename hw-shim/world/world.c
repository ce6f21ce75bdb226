/* Create, map and access the run's shared world file (see world.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "world.h"

#define SEQLOCK_TRIES 10000

_Static_assert(sizeof(struct world_header) % 8 == 0, "header keeps slots aligned");
_Static_assert(sizeof(struct world_slot) % 8 == 0, "slots stay aligned");
_Static_assert(sizeof(struct world_faults) <= 128, "faults fit the space the slot keeps for them");

static size_t map_size(uint32_t slots)
{
	return sizeof(struct world_header) + (size_t)slots * sizeof(struct world_slot);
}

static int map(int fd, size_t len, struct world *w)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	w->hdr = p;
	w->slots = (struct world_slot *)((char *)p + sizeof(struct world_header));
	w->map_len = len;
	return 0;
}

int world_create(const char *path, uint32_t slots, const char *run_name, struct world *w)
{
	size_t len = map_size(slots);
	struct timespec ts;
	int fd, rc;

	memset(w, 0, sizeof(*w));
	if (slots == 0 || slots > WORLD_SLOTS_MAX)
		return -EINVAL;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	/* ftruncate gives a sparse, zero-filled file: untouched slots cost nothing. */
	if (ftruncate(fd, (off_t)len) < 0) {
		rc = -errno;
		goto out;
	}
	if ((rc = map(fd, len, w)) < 0)
		goto out;
	w->hdr->version = WORLD_VERSION;
	w->hdr->header_size = sizeof(struct world_header);
	w->hdr->slot_size = sizeof(struct world_slot);
	w->hdr->slot_count = slots;
	strncpy(w->hdr->run_name, run_name ? run_name : "", sizeof(w->hdr->run_name) - 1);
	clock_gettime(CLOCK_REALTIME, &ts);
	w->hdr->created_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	/* The magic goes last: a reader that sees it sees a complete header. */
	atomic_thread_fence(memory_order_release);
	w->hdr->magic = WORLD_MAGIC;
out:
	close(fd);
	return rc;
}

int world_open(const char *path, struct world *w)
{
	struct world_header probe;
	struct stat st;
	int fd, rc;

	memset(w, 0, sizeof(*w));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if ((size_t)st.st_size < sizeof(probe) || pread(fd, &probe, sizeof(probe), 0) != sizeof(probe) ||
	    probe.magic != WORLD_MAGIC || probe.version != WORLD_VERSION ||
	    probe.header_size != sizeof(struct world_header) ||
	    probe.slot_size != sizeof(struct world_slot) ||
	    probe.slot_count == 0 || probe.slot_count > WORLD_SLOTS_MAX ||
	    (size_t)st.st_size != map_size(probe.slot_count)) {
		rc = -EPROTO;
		goto out;
	}
	rc = map(fd, (size_t)st.st_size, w);
out:
	close(fd);
	return rc;
}

void world_close(struct world *w)
{
	if (w->hdr)
		munmap(w->hdr, w->map_len);
	memset(w, 0, sizeof(*w));
}

struct world_slot *world_get_slot(const struct world *w, uint32_t i)
{
	if (!w->hdr || i >= w->hdr->slot_count)
		return NULL;
	return &w->slots[i];
}

/*
 * Seqlock: the writer makes the sequence odd, writes, makes it even again.
 * A reader copies between two loads of an even, unchanged sequence. There is
 * one writer per group, in one process, so writers never contend.
 */
static void seq_write(_Atomic uint32_t *seq, void *dst, const void *src, size_t n)
{
	uint32_t s = atomic_load_explicit(seq, memory_order_relaxed);

	atomic_store_explicit(seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(dst, src, n);
	atomic_store_explicit(seq, s + 2, memory_order_release);
}

static int seq_read(const _Atomic uint32_t *seq, void *dst, const void *src, size_t n)
{
	for (int i = 0; i < SEQLOCK_TRIES; i++) {
		uint32_t before = atomic_load_explicit(seq, memory_order_acquire);

		if (before & 1)
			continue;
		memcpy(dst, src, n);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(seq, memory_order_relaxed) == before)
			return 0;
	}
	return -EAGAIN;
}

void world_write_env(struct world_slot *s, const struct world_env *env)
{
	seq_write(&s->env_seq, &s->env, env, sizeof(*env));
}

int world_read_env(const struct world_slot *s, struct world_env *env)
{
	return seq_read(&s->env_seq, env, &s->env, sizeof(*env));
}

void world_write_report(struct world_slot *s, const struct world_report *rep)
{
	seq_write(&s->report_seq, &s->report, rep, sizeof(*rep));
}

int world_read_report(const struct world_slot *s, struct world_report *rep)
{
	return seq_read(&s->report_seq, rep, &s->report, sizeof(*rep));
}

void world_write_faults(struct world_slot *s, const struct world_faults *f)
{
	seq_write(&s->fault_seq, &s->faults, f, sizeof(*f));
}

int world_read_faults(const struct world_slot *s, struct world_faults *f)
{
	if (atomic_load_explicit(&s->fault_seq, memory_order_acquire) == 0)
		return -ENODATA;
	return seq_read(&s->fault_seq, f, &s->faults, sizeof(*f));
}

void world_write_run(struct world_header *h, const struct world_run *run)
{
	seq_write(&h->run_seq, &h->run, run, sizeof(*run));
}

int world_read_run(const struct world_header *h, struct world_run *run)
{
	return seq_read(&h->run_seq, run, &h->run, sizeof(*run));
}
