/* Shared between the shim's own files; not for firmware, not for tools. */
#ifndef SHIM_INTERNAL_H
#define SHIM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

struct robot_config;
struct world_faults;

/* A sensor model wired to one or more virtual pins. */
struct shim_pin_model {
	/* The host changed how it drives @pin: @level is 0/1 when driving,
	 * -1 when it released the line. */
	void (*on_host_drive)(void *self, unsigned int pin, int level, uint64_t t_us);
	/* What the model drives on @pin at @t_us: 0/1, or -1 when it lets go. */
	int (*level)(void *self, unsigned int pin, uint64_t t_us);
	/* Until when the level just read at @t_us stays as it is, if the model
	 * knows (an edge it has scheduled); 0 when it does not. Optional. */
	uint64_t (*holds_until)(void *self, unsigned int pin, uint64_t t_us);
	void *self;
};

int shim__gpio_attach(unsigned int pin, const struct shim_pin_model *model);

/* Leave bit-banging time: the clock may follow the wall again. */
void shim__clock_end_transaction(void);
/* Advance virtual time by @us inside a transaction. */
void shim__clock_advance(uint32_t us);

/* When the link model next changes state (UINT64_MAX for never). */
uint64_t shim__link_next_event_us(void);

/*
 * Send one packet over the radio. Decides, from the weak-signal fault and
 * its seeded random stream, how long the packet takes (latency plus one
 * retransmission delay per loss) and stores it in *@delay_ms. Returns 0 when
 * it gets through, or -ENETDOWN when it is lost so often that the station is
 * deauthenticated: the link then goes down @delay_ms from now, by itself.
 */
int shim__link_transmit(uint32_t *delay_ms);

/*
 * Hand the fault set the orchestrator wrote into the world slot to each
 * model (world_link.c calls them when fault_seq moved; NULL or all zero
 * means healthy). Each copies what it needs; none keeps the pointer.
 */
void shim__link_set_faults(const struct world_faults *f);
void shim__dht22_set_faults(const struct world_faults *f);
void shim__hcsr04_set_faults(const struct world_faults *f);
/* A weak signal: publishes wait for the link (posix_hooks.c). */
void shim__mqtt_set_faults(const struct world_faults *f);
/* Flash faults (posix_hooks.c). Write failures act at once; a corrupt
 * record is made when the store is next opened, so the world must be
 * attached before posix_storage_open() for it to act at boot. */
void shim__storage_set_faults(const struct world_faults *f);

/* ---- credentials.c: what the device presents to the broker ---------------- */

struct posix_mqtt_tls;
/* Its own TLS files (any NULL or "": none) and where the material the
 * security faults present instead lives (NULL: nowhere). */
void shim__credentials_setup(const char *ca, const char *cert, const char *key,
			     const char *fault_dir);
/* As a session starts: replace what a security fault replaces. */
void shim__credentials_present(struct posix_mqtt_tls *tls, const char **password);
/* A new fault set: a change for the worse ends the session in force. */
void shim__credentials_set_faults(const struct world_faults *f);
/* The password a client that logs in by itself (a sketch's PubSubClient)
 * presents in place of @own: @own, or a wrong one while the wrong_password
 * fault is in force. */
const char *shim__credentials_password(const char *own);
/*
 * For a firmware that holds its own connections instead of the POSIX HAL's
 * MQTT session (the Arduino layer): called when a change for the worse
 * must end the session in force, with @tls_only true for a certificate
 * fault (only TLS sessions present one) and false for a wrong password.
 * NULL removes it.
 */
void shim__credentials_set_session_hook(void (*end_sessions)(bool tls_only));

/*
 * Hook the virtual hardware into the shared POSIX HAL (posix_hooks.c): the
 * link model under the MQTT session, the flash faults under the file store,
 * the virtual clock, the world and the link's edges in the wait. Without
 * them that code runs as on a real board.
 */
void shim__posix_hooks_install(void);
void shim__posix_hooks_remove(void);

void shim__log_setup(const char *device_id, int level, uint64_t limit_bytes);
void shim__link_setup(uint32_t delay_ms);
int shim__system_setup(const struct robot_config *cfg);

struct shim_env;
/* Map the run's world and bind this device to slot @index (world_link.c). */
int shim__world_attach(const char *path, uint32_t index, const char *device_id,
		       struct shim_env *env);
void shim__world_detach(void);
/*
 * Pull the scenario's environment into the local copy the models read, and
 * the fault set into the models when it changed. Returns true when a new
 * fault set was applied (the caller's wait should return: the firmware may
 * have a link to notice gone).
 */
bool shim__world_sync(void);
void shim__system_teardown(void);

#endif /* SHIM_INTERNAL_H */
