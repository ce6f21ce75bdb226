/*
 * A fleet's credentials directory (credentials.h, layout in pki.h): one CA,
 * the broker's certificate, robofleet's two clients, one certificate, key
 * and password per device, and mosquitto's password file for all of them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_text.h"
#include "credentials.h"
#include "pki.h"
#include "secret_file.h"

#define CREDENTIALS_PATH_MAX 4096
/* 24 of [A-Za-z0-9]: about 143 bits, and no character a shell or URL minds. */
#define CREDENTIALS_PASSWORD_LEN 24
/* "$7$101$" + 16 + "$" + 88, with room to spare. */
#define CREDENTIALS_HASH_MAX 160
#define CREDENTIALS_ID_MAX 32
/* An existing mosquitto.passwd we merge into; far beyond any fleet's. */
#define CREDENTIALS_PASSWD_MAX (256L * 1024 * 1024)


int credentials_path(const char *dir, const char *sub, const char *name, const char *ext,
		     char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s%s%s%s%s", dir, sub ? sub : "", sub ? "/" : "", name,
			 ext ? "." : "", ext ? ext : "");

	if (n < 0 || (size_t)n >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

/* The device id rule of the fleet: [A-Za-z0-9_-]{1,32}. It names files here. */
static bool id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > CREDENTIALS_ID_MAX)
		return false;
	for (; *id; id++)
		if (!((*id >= 'a' && *id <= 'z') || (*id >= 'A' && *id <= 'Z') ||
		      (*id >= '0' && *id <= '9') || *id == '_' || *id == '-'))
			return false;
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A directory of the layout: 0700, whether it was there before or not. */
static int make_dir(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return error_text(err, errlen, -errno, "%s: cannot create the directory: %s", path,
			       strerror(errno));
	if (stat(path, &st) < 0)
		return error_text(err, errlen, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return error_text(err, errlen, -ENOTDIR, "%s: exists and is not a directory", path);
	if ((st.st_mode & 07777) != 0700 && chmod(path, 0700) < 0)
		return error_text(err, errlen, -errno, "%s: cannot set mode 0700: %s", path,
			       strerror(errno));
	return 0;
}

/* A growing buffer for mosquitto.passwd, written once at the end. */
struct text {
	char *buf;
	size_t len, cap;
};

static int text_add(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		char *b;

		while (cap < t->len + n + 1)
			cap *= 2;
		b = realloc(t->buf, cap);
		if (!b)
			return -ENOMEM;
		t->buf = b;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
	return 0;
}

/* Everything one credentials_create() call carries from step to step. */
struct job {
	const struct credentials_plan *plan;
	struct pki_ca *ca;
	int days;
	struct text passwd;
	/* The directory's mosquitto.passwd before, when adding: "user:hash" lines. */
	char *old;
	size_t old_len;
	char *err;
	size_t errlen;
};

/* @user's hash in the old mosquitto.passwd, or NULL. */
static const char *old_hash(const struct job *j, const char *user, size_t *len)
{
	size_t ulen = strlen(user);

	for (const char *line = j->old; line && line < j->old + j->old_len;) {
		const char *end = memchr(line, '\n', (size_t)(j->old + j->old_len - line));

		if (!end)
			end = j->old + j->old_len;
		if ((size_t)(end - line) > ulen && !strncmp(line, user, ulen) && line[ulen] == ':') {
			*len = (size_t)(end - line) - ulen - 1;
			return line + ulen + 1;
		}
		line = end + 1;
	}
	return NULL;
}

static int passwd_add(struct job *j, const char *user, const char *hash, size_t hash_len)
{
	if (text_add(&j->passwd, user, strlen(user)) < 0 || text_add(&j->passwd, ":", 1) < 0 ||
	    text_add(&j->passwd, hash, hash_len) < 0 || text_add(&j->passwd, "\n", 1) < 0)
		return error_text(j->err, j->errlen, -ENOMEM, "out of memory");
	return 0;
}

/*
 * One client of the broker: a password (its own file and a line of
 * mosquitto.passwd) and a certificate with CN = @name, in @sub/.
 */
static int make_client(struct job *j, const char *sub, const char *name)
{
	struct pki_subject s = {
		.cn = name,
		.not_before_s = -3600,
		.not_after_s = (int64_t)j->days * 86400,
	};
	char crt[CREDENTIALS_PATH_MAX], key[CREDENTIALS_PATH_MAX], pwf[CREDENTIALS_PATH_MAX];
	char pw[CREDENTIALS_PASSWORD_LEN + 2], hash[CREDENTIALS_HASH_MAX];
	int rc;

	if (credentials_path(j->plan->dir, sub, name, "crt", crt, sizeof(crt)) < 0 ||
	    credentials_path(j->plan->dir, sub, name, "key", key, sizeof(key)) < 0 ||
	    credentials_path(j->plan->dir, sub, name, "password", pwf, sizeof(pwf)) < 0) {
		rc = error_text(j->err, j->errlen, -ENAMETOOLONG, "%s: path too long", j->plan->dir);
		goto out;
	}
	rc = pki_random_password(pw, CREDENTIALS_PASSWORD_LEN + 1);
	if (rc == 0)
		rc = pki_password_hash(pw, hash, sizeof(hash));
	if (rc < 0) {
		error_text(j->err, j->errlen, rc, "%s: cannot make a password: %s", pwf, strerror(-rc));
		goto out;
	}
	/* The plain password ends with a newline, as people and tools write files. */
	pw[CREDENTIALS_PASSWORD_LEN] = '\n';
	rc = pki_write_file(pwf, pw, CREDENTIALS_PASSWORD_LEN + 1, 0600, j->err, j->errlen);
	if (rc < 0)
		goto out;
	rc = passwd_add(j, name, hash, strlen(hash));
	if (rc < 0)
		goto out;
	rc = pki_issue(j->ca, &s, crt, key, j->err, j->errlen);
out:
	memset(pw, 0, sizeof(pw));
	return rc;
}

static int make_broker(struct job *j)
{
	static const char *const def_names[] = { "localhost" };
	static const char *const def_ips[] = { "127.0.0.1" };
	const struct credentials_plan *p = j->plan;
	struct pki_subject s = {
		.dns_names = p->n_broker_names ? p->broker_names : def_names,
		.n_dns_names = p->n_broker_names ? p->n_broker_names : 1,
		.ip_addresses = p->n_broker_ips ? p->broker_ips : def_ips,
		.n_ip_addresses = p->n_broker_ips ? p->n_broker_ips : 1,
		.server = true,
		.not_before_s = -3600,
		.not_after_s = (int64_t)j->days * 86400,
	};
	char crt[CREDENTIALS_PATH_MAX], key[CREDENTIALS_PATH_MAX];

	/* Clients check the names; the CN is the first, for people reading it. */
	s.cn = s.dns_names[0];
	if (credentials_path(p->dir, NULL, "broker", "crt", crt, sizeof(crt)) < 0 ||
	    credentials_path(p->dir, NULL, "broker", "key", key, sizeof(key)) < 0)
		return error_text(j->err, j->errlen, -ENAMETOOLONG, "%s: path too long", p->dir);
	return pki_issue(j->ca, &s, crt, key, j->err, j->errlen);
}

/*
 * What the security faults present instead of a device's own: a
 * certificate of our CA that expired yesterday, and one from a CA nobody
 * trusts (whose key is thrown away: nothing is ever issued with it again).
 */
static int make_faults(struct job *j)
{
	const char *dir = j->plan->dir;
	struct pki_subject expired = {
		.cn = "robofleet-expired",
		.not_before_s = -31 * 86400,
		.not_after_s = -86400,
	};
	struct pki_subject foreign = {
		.cn = "robofleet-foreign",
		.not_before_s = -3600,
		.not_after_s = (int64_t)j->days * 86400,
	};
	char crt[CREDENTIALS_PATH_MAX], key[CREDENTIALS_PATH_MAX], sub[CREDENTIALS_PATH_MAX];
	struct pki_ca *other = NULL;
	int rc;

	if (credentials_path(dir, NULL, "faults", NULL, sub, sizeof(sub)) < 0)
		return error_text(j->err, j->errlen, -ENAMETOOLONG, "%s: path too long", dir);
	rc = make_dir(sub, j->err, j->errlen);
	if (rc < 0)
		return rc;
	if (credentials_path(dir, "faults", "expired", "crt", crt, sizeof(crt)) < 0 ||
	    credentials_path(dir, "faults", "expired", "key", key, sizeof(key)) < 0)
		return error_text(j->err, j->errlen, -ENAMETOOLONG, "%s: path too long", dir);
	rc = pki_issue(j->ca, &expired, crt, key, j->err, j->errlen);
	if (rc < 0)
		return rc;
	if (credentials_path(dir, "faults", "foreign-ca", "crt", crt, sizeof(crt)) < 0)
		return error_text(j->err, j->errlen, -ENAMETOOLONG, "%s: path too long", dir);
	rc = pki_ca_create("robofleet foreign CA", j->days, crt, NULL, &other, j->err, j->errlen);
	if (rc < 0)
		return rc;
	if (credentials_path(dir, "faults", "foreign", "crt", crt, sizeof(crt)) < 0 ||
	    credentials_path(dir, "faults", "foreign", "key", key, sizeof(key)) < 0) {
		rc = error_text(j->err, j->errlen, -ENAMETOOLONG, "%s: path too long", dir);
		goto out;
	}
	rc = pki_issue(other, &foreign, crt, key, j->err, j->errlen);
out:
	pki_ca_free(other);
	return rc;
}

/*
 * The CA: a new one in the directory, or the plan's, whose certificate is
 * then copied in as ca.crt (its key stays where it is).
 */
static int get_ca(struct job *j)
{
	const struct credentials_plan *p = j->plan;
	char crt[CREDENTIALS_PATH_MAX], key[CREDENTIALS_PATH_MAX];
	struct stat a, b;
	char *pem = NULL;
	FILE *f = NULL;
	size_t len = 0;
	int rc;

	if (credentials_path(p->dir, NULL, "ca", "crt", crt, sizeof(crt)) < 0 ||
	    credentials_path(p->dir, NULL, "ca", "key", key, sizeof(key)) < 0)
		return error_text(j->err, j->errlen, -ENAMETOOLONG, "%s: path too long", p->dir);
	if (!p->ca_cert)
		return pki_ca_create("robofleet CA", j->days, crt, key, &j->ca, j->err, j->errlen);
	rc = pki_ca_load(p->ca_cert, p->ca_key, &j->ca, j->err, j->errlen);
	if (rc < 0)
		return rc;
	/* Adding devices to a directory made before: its ca.crt is the CA already. */
	if (stat(p->ca_cert, &a) == 0 && stat(crt, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)
		return 0;
	f = fopen(p->ca_cert, "re");
	if (!f)
		return error_text(j->err, j->errlen, -errno, "%s: cannot read: %s", p->ca_cert,
			       strerror(errno));
	pem = malloc(1024 * 1024);
	if (!pem) {
		rc = error_text(j->err, j->errlen, -ENOMEM, "out of memory");
		goto out;
	}
	len = fread(pem, 1, 1024 * 1024, f);
	if (ferror(f)) {
		rc = error_text(j->err, j->errlen, -EIO, "%s: cannot read", p->ca_cert);
		goto out;
	}
	rc = pki_write_file(crt, pem, len, 0644, j->err, j->errlen);
out:
	free(pem);
	fclose(f);
	return rc;
}

/* The directory's mosquitto.passwd as it is (none: nothing kept). */
static int read_old_passwd(struct job *j, const char *path)
{
	FILE *f = fopen(path, "re");
	long size;
	int rc = 0;

	if (!f)
		return errno == ENOENT ? 0 : error_text(j->err, j->errlen, -errno, "%s: cannot read: %s",
						     path, strerror(errno));
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		rc = error_text(j->err, j->errlen, -EIO, "%s: cannot read", path);
		goto out;
	}
	if (size > CREDENTIALS_PASSWD_MAX) {
		rc = error_text(j->err, j->errlen, -EFBIG, "%s: too big to be a password file", path);
		goto out;
	}
	j->old = malloc((size_t)size + 1);
	if (!j->old) {
		rc = error_text(j->err, j->errlen, -ENOMEM, "out of memory");
		goto out;
	}
	j->old_len = fread(j->old, 1, (size_t)size, f);
	j->old[j->old_len] = '\0';
	if (ferror(f))
		rc = error_text(j->err, j->errlen, -EIO, "%s: cannot read", path);
out:
	fclose(f);
	return rc;
}

/*
 * The old mosquitto.passwd's lines for users this plan does not make
 * (devices added earlier), so that adding devices keeps the others.
 */
static int keep_old_users(struct job *j, const char *const *sorted, size_t n)
{
	for (char *line = j->old; line && line < j->old + j->old_len;) {
		char *end = memchr(line, '\n', (size_t)(j->old + j->old_len - line));
		char *colon;
		const char *user = line;

		if (!end)
			end = j->old + j->old_len;
		*end = '\0';
		colon = strchr(line, ':');
		if (colon && colon != line) {
			*colon = '\0';
			if (!bsearch(&user, sorted, n, sizeof(*sorted), cmp_str) &&
			    strcmp(user, CREDENTIALS_RECORDER) && strcmp(user, CREDENTIALS_COMMANDER) &&
			    passwd_add(j, user, colon + 1, strlen(colon + 1)) < 0)
				return -ENOMEM;
		}
		line = end + 1;
	}
	return 0;
}

bool credentials_pair_valid(const char *dir, const char *sub, const char *name,
			    const char *ca_cert)
{
	char crt[CREDENTIALS_PATH_MAX], key[CREDENTIALS_PATH_MAX];
	bool expired = true;

	return credentials_path(dir, sub, name, "crt", crt, sizeof(crt)) == 0 &&
	       credentials_path(dir, sub, name, "key", key, sizeof(key)) == 0 &&
	       pki_check_files(ca_cert, crt, key, &expired, NULL, 0) == 0 && !expired;
}

/*
 * Adding devices with the directory's CA: robofleet's own client @name
 * stays as it is (a running recorder keeps working) when its certificate
 * checks out and its password is the one mosquitto.passwd holds. Returns
 * 1 kept (its line is in the new file), 0 not, or a negative errno.
 */
static int keep_client(struct job *j, const char *name)
{
	char pwf[CREDENTIALS_PATH_MAX], pw[128];
	const char *hash;
	char copy[CREDENTIALS_HASH_MAX * 2];
	size_t len = 0;
	int rc = 0;

	if (!j->plan->ca_cert || !credentials_pair_valid(j->plan->dir, "clients", name,
							 j->plan->ca_cert) ||
	    credentials_path(j->plan->dir, "clients", name, "password", pwf, sizeof(pwf)) < 0 ||
	    secret_file_read(pwf, pw, sizeof(pw), NULL, 0) < 0)
		goto out;
	hash = old_hash(j, name, &len);
	if (!hash || len >= sizeof(copy))
		goto out;
	memcpy(copy, hash, len);
	copy[len] = '\0';
	if (pki_password_matches(pw, copy))
		rc = passwd_add(j, name, copy, len) < 0 ? -ENOMEM : 1;
out:
	memset(pw, 0, sizeof(pw));
	return rc;
}

/* The device ids, checked (valid, no repeats, no client's name) and sorted. */
static int check_ids(struct job *j, const char ***sorted_out)
{
	const struct credentials_plan *p = j->plan;
	const char **sorted;

	*sorted_out = NULL;
	sorted = malloc((p->n_devices ? p->n_devices : 1) * sizeof(*sorted));
	if (!sorted)
		return error_text(j->err, j->errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; i < p->n_devices; i++) {
		const char *id = p->device_ids[i];

		if (!id_valid(id)) {
			free(sorted);
			return error_text(j->err, j->errlen, -EINVAL, "'%s' is not a device id: use "
				       "1-%d characters of A-Z a-z 0-9 _ -", id ? id : "(null)",
				       CREDENTIALS_ID_MAX);
		}
		if (!strcmp(id, CREDENTIALS_RECORDER) || !strcmp(id, CREDENTIALS_COMMANDER)) {
			free(sorted);
			return error_text(j->err, j->errlen, -EINVAL, "device id '%s' is the name of "
				       "one of robofleet's own clients", id);
		}
		sorted[i] = id;
	}
	qsort(sorted, p->n_devices, sizeof(*sorted), cmp_str);
	for (size_t i = 1; i < p->n_devices; i++)
		if (!strcmp(sorted[i - 1], sorted[i])) {
			int rc = error_text(j->err, j->errlen, -EINVAL, "device id '%s' appears twice",
					 sorted[i]);

			free(sorted);
			return rc;
		}
	*sorted_out = sorted;
	return 0;
}

int credentials_create(const struct credentials_plan *plan, char *err, size_t errlen)
{
	struct job j = {
		.plan = plan,
		.days = plan->days ? plan->days : 365,
		.err = err,
		.errlen = errlen,
	};
	char path[CREDENTIALS_PATH_MAX], tmp[CREDENTIALS_PATH_MAX];
	const char **sorted = NULL;
	int rc;

	if (!plan->dir || !plan->dir[0])
		return error_text(err, errlen, -EINVAL, "no credentials directory given");
	if (j.days < 0)
		return error_text(err, errlen, -EINVAL, "a validity of %d days", j.days);
	if (!plan->ca_cert != !plan->ca_key)
		return error_text(err, errlen, -EINVAL, "an existing CA needs both its certificate "
			       "and its key");
	rc = check_ids(&j, &sorted);
	if (rc < 0)
		return rc;
	rc = make_dir(plan->dir, err, errlen);
	if (rc < 0)
		goto out;
	if (credentials_path(plan->dir, NULL, "clients", NULL, path, sizeof(path)) < 0 ||
	    (rc = make_dir(path, err, errlen)) < 0 ||
	    credentials_path(plan->dir, NULL, "devices", NULL, path, sizeof(path)) < 0 ||
	    (rc = make_dir(path, err, errlen)) < 0) {
		if (rc == 0)
			rc = error_text(err, errlen, -ENAMETOOLONG, "%s: path too long", plan->dir);
		goto out;
	}
	rc = get_ca(&j);
	if (rc < 0)
		goto out;
	if (credentials_path(plan->dir, NULL, "mosquitto", "passwd", path, sizeof(path)) < 0 ||
	    credentials_path(plan->dir, NULL, ".mosquitto", "passwd.tmp", tmp, sizeof(tmp)) < 0) {
		rc = error_text(err, errlen, -ENAMETOOLONG, "%s: path too long", plan->dir);
		goto out;
	}
	/*
	 * Adding devices with the directory's own CA: what the broker and
	 * robofleet's clients have stays, if it still checks out, so that
	 * nothing running needs new files. Names for the broker, given again,
	 * mean a new broker certificate.
	 */
	if (plan->ca_cert) {
		rc = read_old_passwd(&j, path);
		if (rc < 0)
			goto out;
	}
	if (!plan->ca_cert || plan->n_broker_names || plan->n_broker_ips ||
	    !credentials_pair_valid(plan->dir, NULL, "broker", plan->ca_cert)) {
		rc = make_broker(&j);
		if (rc < 0)
			goto out;
	}
	for (int c = 0; c < 2; c++) {
		const char *name = c ? CREDENTIALS_COMMANDER : CREDENTIALS_RECORDER;

		rc = keep_client(&j, name);
		if (rc == 0)
			rc = make_client(&j, "clients", name);
		if (rc < 0) {
			if (rc == -ENOMEM)
				error_text(err, errlen, rc, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < plan->n_devices; i++) {
		rc = make_client(&j, "devices", plan->device_ids[i]);
		if (rc < 0)
			goto out;
	}
	if (plan->fault_material) {
		rc = make_faults(&j);
		if (rc < 0)
			goto out;
	}
	rc = keep_old_users(&j, sorted, plan->n_devices);
	if (rc < 0) {
		error_text(err, errlen, rc, "out of memory");
		goto out;
	}
	/*
	 * One write into a new file, renamed over the old one: a broker that
	 * reloads it meanwhile reads the old users or the new, never half.
	 */
	rc = pki_write_file(tmp, j.passwd.buf ? j.passwd.buf : "", j.passwd.len, 0600, err,
			    errlen);
	if (rc < 0)
		goto out;
	if (rename(tmp, path) < 0) {
		rc = error_text(err, errlen, -errno, "%s: cannot write: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
out:
	pki_ca_free(j.ca);
	free(j.passwd.buf);
	free(j.old);
	free(sorted);
	return rc;
}
