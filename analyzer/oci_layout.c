/* oci_layout: blobs by temp file + fsync + rename (an existing one hashed
 * first), index.json under a lock (see oci_layout.h). */
#include "analyzer/oci_layout.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/digest.h"

#define JSON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = ENOSPC;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int oci_layout_fsync(const char *path, struct wh_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return wh_err(err, WH_EOUTPUT, "%s: %s", path, strerror(errno));
	int r = fsync(fd);
	int e = errno;
	close(fd);
	if (r != 0 && e != EINVAL)
		return wh_err(err, WH_EOUTPUT, "%s: fsync: %s", path, strerror(e));
	return 0;
}

/* Write DATA to a new temporary file in DIR, fsync it and rename it to
 * DIR/NAME (replacing what is there). */
static int replace_file(const char *dir, const char *name, const void *data, size_t len, struct wh_error *err)
{
	char *tmp = xasprintf("%s/.%s.XXXXXX", dir, name);
	int fd = mkostemp(tmp, O_CLOEXEC);
	int rc = 0;
	if (fd < 0) {
		rc = wh_err(err, WH_EOUTPUT, "%s: cannot create a temporary file: %s", dir, strerror(errno));
		free(tmp);
		return rc;
	}
	if (fchmod(fd, 0644) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0)
		rc = wh_err(err, WH_EOUTPUT, "%s: %s", tmp, strerror(errno));
	if (close(fd) != 0 && rc == 0)
		rc = wh_err(err, WH_EOUTPUT, "%s: %s", tmp, strerror(errno));
	char *to = xasprintf("%s/%s", dir, name);
	if (rc == 0 && rename(tmp, to) != 0)
		rc = wh_err(err, WH_EOUTPUT, "%s: %s", to, strerror(errno));
	if (rc < 0)
		unlink(tmp);
	free(to);
	free(tmp);
	return rc;
}

int oci_layout_is(const char *dir)
{
	char *a = xasprintf("%s/oci-layout", dir), *b = xasprintf("%s/index.json", dir);
	int r = access(a, F_OK) == 0 && access(b, F_OK) == 0;
	free(a);
	free(b);
	return r;
}

int oci_layout_create(const char *dir, unsigned mode, struct wh_error *err)
{
	static const char layout_json[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	if (mkdir(dir, mode) != 0 && errno != EEXIST)
		return wh_err(err, WH_EOUTPUT, "%s: %s", dir, strerror(errno));
	char *blobs = xasprintf("%s/blobs", dir), *sha = xasprintf("%s/blobs/sha256", dir);
	int rc = 0;
	if ((mkdir(blobs, mode) != 0 && errno != EEXIST) || (mkdir(sha, mode) != 0 && errno != EEXIST))
		rc = wh_err(err, WH_EOUTPUT, "%s: %s", sha, strerror(errno));
	if (rc == 0)
		rc = replace_file(dir, "oci-layout", layout_json, sizeof layout_json - 1, err);
	free(blobs);
	free(sha);
	return rc;
}

json_t *oci_layout_descriptor(const char *media_type, const char *digest, size_t size)
{
	json_t *d = json_object();
	json_object_set_new(d, "mediaType", json_string(media_type));
	json_object_set_new(d, "digest", json_string(digest));
	json_object_set_new(d, "size", json_integer((json_int_t)size));
	return d;
}

/* Does the file PATH hash to DIGEST? (0 when missing or different) */
static int blob_matches(const char *path, const char *digest)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	struct digest_ctx d;
	digest_init(&d);
	char *b = xmalloc(1 << 16);
	ssize_t n;
	while ((n = read(fd, b, 1 << 16)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			digest_update(&d, b, (size_t)n);
	free(b);
	close(fd);
	char got[WH_DIGEST_LEN];
	digest_final(&d, NULL, got);
	digest_free(&d);
	return n == 0 && !strcmp(got, digest);
}

static int check_digest(const char *digest, struct wh_error *err)
{
	if (!digest_valid(digest))
		return wh_err(err, WH_EOUTPUT, "not a sha256 digest: \"%s\"", digest);
	return 0;
}

int oci_layout_put_blob(const char *dir, const char *digest, const void *data, size_t len, struct wh_error *err)
{
	int rc = check_digest(digest, err);
	if (rc < 0)
		return rc;
	char *sha = xasprintf("%s/blobs/sha256", dir), *path = xasprintf("%s/%s", sha, digest + 7);
	if (!blob_matches(path, digest))
		rc = replace_file(sha, digest + 7, data, len, err);
	free(path);
	free(sha);
	return rc;
}

int oci_layout_put_blob_file(const char *dir, const char *digest, const char *src, struct wh_error *err)
{
	int rc = check_digest(digest, err);
	if (rc < 0)
		return rc;
	char *path = xasprintf("%s/blobs/sha256/%s", dir, digest + 7);
	if (!blob_matches(path, digest) && rename(src, path) != 0)
		rc = wh_err(err, WH_EOUTPUT, "%s: %s", path, strerror(errno));
	free(path);
	return rc;
}

/* skopeo's rule (containers/image oci layout): a named entry takes the name
 * from any older entry that had it; an unnamed entry of the same digest is
 * replaced; otherwise the entry is appended. */
static void index_add(json_t *index, json_t *desc, const char *tag)
{
	json_t *ms = json_object_get(index, "manifests");
	if (!json_is_array(ms)) {
		ms = json_array();
		json_object_set_new(index, "manifests", ms);
	}
	size_t i;
	json_t *m;
	if (tag) {
		json_array_foreach(ms, i, m)
		{
			json_t *ann = json_object_get(m, "annotations");
			const char *n = json_string_value(json_object_get(ann, OCI_REF_NAME));
			if (n && !strcmp(n, tag)) {
				json_object_del(ann, OCI_REF_NAME);
				if (json_object_size(ann) == 0)
					json_object_del(m, "annotations");
				break;
			}
		}
	}
	const char *dg = json_string_value(json_object_get(desc, "digest"));
	json_array_foreach(ms, i, m)
	{
		const char *n = json_string_value(json_object_get(json_object_get(m, "annotations"), OCI_REF_NAME));
		const char *d = json_string_value(json_object_get(m, "digest"));
		if (d && dg && !strcmp(d, dg) && (!n || !*n)) {
			json_array_set(ms, i, desc);
			return;
		}
	}
	json_array_append(ms, desc);
}

static json_t *tagged(json_t *desc, const char *tag)
{
	json_t *d = json_deep_copy(desc);
	if (tag) {
		json_t *ann = json_object_get(d, "annotations");
		if (!json_is_object(ann)) {
			ann = json_object();
			json_object_set_new(d, "annotations", ann);
		}
		json_object_set_new(ann, OCI_REF_NAME, json_string(tag));
	}
	return d;
}

static json_t *new_index(void)
{
	json_t *index = json_object();
	json_object_set_new(index, "schemaVersion", json_integer(2));
	json_object_set_new(index, "mediaType", json_string(OCI_MT_INDEX));
	json_object_set_new(index, "manifests", json_array());
	return index;
}

char *oci_layout_index_text(json_t *desc, const char *tag)
{
	json_t *index = new_index(), *d = tagged(desc, tag);
	index_add(index, d, tag);
	char *s = json_dumps(index, JSON_FLAGS);
	json_decref(d);
	json_decref(index);
	return s;
}

int oci_layout_put_index(const char *dir, json_t *desc, const char *tag, struct wh_error *err)
{
	char *lock = xasprintf("%s/%s", dir, OCI_LAYOUT_LOCK), *ip = xasprintf("%s/index.json", dir);
	json_t *index = NULL;
	int rc = 0;
	int fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = wh_err(err, WH_EOUTPUT, "%s: %s", lock, strerror(errno));
		goto out;
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			rc = wh_err(err, WH_EOUTPUT, "%s: cannot lock: %s", lock, strerror(errno));
			goto out;
		}
	}
	/* read again under the lock: another run may have added a tag since */
	if (access(ip, F_OK) == 0) {
		json_error_t je;
		index = json_load_file(ip, 0, &je);
		if (!json_is_object(index)) {
			rc = wh_err(err, WH_EOUTPUT, "%s: not a JSON object (line %d: %s)", ip, je.line, je.text);
			goto out;
		}
	} else {
		index = new_index();
	}
	json_t *d = tagged(desc, tag);
	index_add(index, d, tag);
	json_decref(d);
	char *text = json_dumps(index, JSON_FLAGS);
	rc = replace_file(dir, "index.json", text, strlen(text), err);
	free(text);
	if (rc == 0)
		rc = oci_layout_fsync(dir, err);
out:
	if (fd >= 0)
		close(fd); /* drops the lock */
	json_decref(index);
	free(lock);
	free(ip);
	return rc;
}
