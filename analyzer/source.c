/* source: open an image in any form (docker-archive, oci, oci-archive; an
 * engine's or a registry's image through fetch's spool), pick the manifest, read and verify the config, list the layer blobs. */
#include "analyzer/source.h"
#include "analyzer/fetch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define SMALL_BLOB_MAX (64u << 20)

int image_read_blob(const struct wh_image *img, const struct wh_blobref *b, const char *want_digest,
                    size_t max, struct buf *out, struct wh_error *err)
{
	(void)img;
	if (b->length > max)
		return wh_err(err, WH_EINPUT, "%s: %llu bytes, more than the %zu a manifest or config may have",
		              b->name, (unsigned long long)b->length, max);
	int fd = open(b->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return wh_err(err, WH_EINPUT, "%s: %s", b->name, strerror(errno));
	uint8_t *p = xmalloc(b->length + 1);
	if (pread_full(fd, p, b->length, b->offset) < 0) {
		close(fd);
		free(p);
		return wh_err(err, WH_EINPUT, "%s: cannot read %llu bytes (truncated?)", b->name,
		              (unsigned long long)b->length);
	}
	close(fd);
	if (want_digest && *want_digest) {
		char got[WH_DIGEST_LEN];
		digest_buf(p, b->length, got);
		if (strcmp(got, want_digest) != 0) {
			free(p);
			return wh_err(err, WH_EINPUT, "%s: digest mismatch: expected %s, got %s", b->name,
			              want_digest, got);
		}
	}
	buf_append(out, p, b->length);
	free(p);
	return 0;
}

/* --- locating blobs ------------------------------------------------------ */

static int blob_in_archive(struct wh_image *img, const char *member, struct wh_blobref *b,
                           struct wh_error *err)
{
	const struct tar_member *m = tarscan_find(&img->tar, member);
	if (!m || (m->type != '0' && m->type != '7'))
		return wh_err(err, WH_EINPUT, "%s: member %s is missing from the archive", img->path, member);
	b->file = img->path;
	b->offset = m->offset;
	b->length = m->size;
	snprintf(b->name, sizeof b->name, "%s (member %s)", member, img->path);
	/* keep messages short: name the member first */
	snprintf(b->name, sizeof b->name, "%s", member);
	return 0;
}

/* The blob DIGEST; DESC: its descriptor (for the size a registry's blob
 * may have; NULL: unknown); CAP: the most a registry's blob of this kind
 * may have (0: no cap). */
static int blob_by_digest(struct wh_image *img, const char *digest, json_t *desc, uint64_t cap,
                          struct wh_blobref *b, struct wh_error *err)
{
	if (!digest_valid(digest))
		return wh_err(err, WH_EINPUT, "%s: unsupported or malformed digest \"%s\"", img->path, digest);
	char rel[128];
	snprintf(rel, sizeof rel, "blobs/sha256/%s", digest + 7);
	if (img->is_archive)
		return blob_in_archive(img, rel, b, err);
	char *full = xasprintf("%s/%s", img->path, rel);
	struct stat st;
	if (img->fetch && lstat(full, &st) < 0 && errno == ENOENT) {
		/* a registry's spool: fetch the blob now (verified as it arrives) */
		json_t *sz = json_object_get(desc, "size");
		int64_t size = json_is_integer(sz) && json_integer_value(sz) >= 0 ? (int64_t)json_integer_value(sz) : -1;
		int rc = fetch_registry_blob(img->fetch, digest, size, cap, err); /* into img->path, the spool */
		if (rc < 0) {
			free(full);
			return rc;
		}
	}
	if (lstat(full, &st) < 0 || !S_ISREG(st.st_mode)) {
		int rc = wh_err(err, WH_EINPUT, "%s: blob %s is missing", img->path, rel);
		free(full);
		return rc;
	}
	/* the layout owns this string for the image's lifetime */
	b->file = full;
	b->offset = 0;
	b->length = (uint64_t)st.st_size;
	snprintf(b->name, sizeof b->name, "%s", rel);
	return 0;
}

static int read_json_blob(struct wh_image *img, const struct wh_blobref *b, const char *digest,
                          json_t **out, struct wh_error *err)
{
	struct buf bb = {0};
	int rc = image_read_blob(img, b, digest, SMALL_BLOB_MAX, &bb, err);
	if (rc < 0)
		return rc;
	json_error_t je;
	*out = json_loadb((const char *)bb.data, bb.len, 0, &je);
	buf_free(&bb);
	if (!*out)
		return wh_err(err, WH_EINPUT, "%s: invalid JSON: %s (line %d)", b->name, je.text, je.line);
	return 0;
}

/* --- picking a manifest from an OCI index ---------------------------------- */

struct candidate {
	json_t *desc;        /* the manifest descriptor */
	const char *tag;     /* ref.name of the top-level entry it came from */
};

struct candlist {
	struct candidate *v;
	size_t n, cap;
};

static const char *ann(json_t *desc, const char *key)
{
	return json_string_value(json_object_get(json_object_get(desc, "annotations"), key));
}

static int is_attestation(json_t *desc)
{
	const char *t = ann(desc, "vnd.docker.reference.type");
	if (t && !strcmp(t, "attestation-manifest"))
		return 1;
	json_t *p = json_object_get(desc, "platform");
	const char *os = json_string_value(json_object_get(p, "os"));
	const char *arch = json_string_value(json_object_get(p, "architecture"));
	return os && arch && !strcmp(os, "unknown") && !strcmp(arch, "unknown");
}

static int is_index_type(const char *mt)
{
	return mt && (!strcmp(mt, "application/vnd.oci.image.index.v1+json") ||
	              !strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json"));
}

/* keep the loaded nested indexes alive until the image is opened */
struct jsonkeep {
	json_t **v;
	size_t n;
};

static void keep_json(struct jsonkeep *k, json_t *j)
{
	k->v = xrealloc(k->v, (k->n + 1) * sizeof *k->v);
	k->v[k->n++] = j;
}

static int expand(struct wh_image *img, json_t *desc, const char *tag, struct candlist *cl,
                  struct jsonkeep *keep, int depth, struct wh_error *err)
{
	if (depth > 8)
		return wh_err(err, WH_EINPUT, "%s: image indexes nested more than 8 deep", img->path);
	const char *mt = json_string_value(json_object_get(desc, "mediaType"));
	if (is_attestation(desc))
		return 0;
	if (is_index_type(mt)) {
		const char *dg = json_string_value(json_object_get(desc, "digest"));
		if (!dg)
			return wh_err(err, WH_EINPUT, "%s: index entry without a digest", img->path);
		struct wh_blobref b = {0};
		int rc = blob_by_digest(img, dg, desc, FETCH_SMALL_MAX, &b, err);
		json_t *idx = NULL;
		if (rc == 0)
			rc = read_json_blob(img, &b, dg, &idx, err);
		if (!img->is_archive)
			free((char *)b.file);
		if (rc < 0)
			return rc;
		keep_json(keep, idx);
		json_t *ms = json_object_get(idx, "manifests");
		if (!json_is_array(ms))
			return wh_err(err, WH_EINPUT, "%s: index %s has no manifests list", img->path, dg);
		size_t i;
		json_t *d;
		json_array_foreach(ms, i, d)
		{
			rc = expand(img, d, tag, cl, keep, depth + 1, err);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	if (cl->n == cl->cap) {
		cl->cap = cl->cap ? cl->cap * 2 : 8;
		cl->v = xrealloc(cl->v, cl->cap * sizeof *cl->v);
	}
	cl->v[cl->n].desc = desc;
	cl->v[cl->n].tag = tag;
	cl->n++;
	return 0;
}

static const char *host_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__i386__)
	return "386";
#elif defined(__arm__)
	return "arm";
#else
	static struct utsname u;
	uname(&u);
	return u.machine;
#endif
}

static int platform_matches(json_t *desc, const char *os, const char *arch, const char *variant)
{
	json_t *p = json_object_get(desc, "platform");
	const char *pos = json_string_value(json_object_get(p, "os"));
	const char *parch = json_string_value(json_object_get(p, "architecture"));
	const char *pvar = json_string_value(json_object_get(p, "variant"));
	if (!pos || !parch || strcmp(pos, os) || strcmp(parch, arch))
		return 0;
	/* arm64 without a variant is v8, as containerd's platform matcher normalizes it */
	if (variant && !pvar && !strcmp(arch, "arm64") && !strcmp(variant, "v8"))
		return 1;
	if (variant && (!pvar || strcmp(pvar, variant)))
		return 0;
	return 1;
}

static int tag_matches(const char *refname, const char *tag)
{
	if (!refname)
		return 0;
	if (!strcmp(refname, tag))
		return 1;
	/* "docker.io/library/x:1" matches "x:1" and "1" */
	size_t rl = strlen(refname), tl = strlen(tag);
	if (rl > tl && !strcmp(refname + rl - tl, tag) && (refname[rl - tl - 1] == ':' || refname[rl - tl - 1] == '/'))
		return 1;
	return 0;
}

static int pick_from_index(struct wh_image *img, json_t *index, const char *tag, const struct wh_open_opts *opts,
                           struct jsonkeep *keep, json_t **chosen, struct wh_error *err)
{
	json_t *ms = json_object_get(index, "manifests");
	if (!json_is_array(ms) || json_array_size(ms) == 0)
		return wh_err(err, WH_EINPUT, "%s: index.json lists no manifests", img->path);
	struct candlist cl = {0};
	size_t i;
	json_t *d;
	int rc = 0;
	size_t tagged = 0;
	json_array_foreach(ms, i, d)
	{
		const char *rn = ann(d, "org.opencontainers.image.ref.name");
		if (tag && !tag_matches(rn, tag))
			continue;
		tagged++;
		rc = expand(img, d, rn, &cl, keep, 0, err);
		if (rc < 0)
			goto out;
	}
	if (tag && tagged == 0) {
		struct buf tags = {0};
		json_array_foreach(ms, i, d)
		{
			const char *rn = ann(d, "org.opencontainers.image.ref.name");
			if (rn) {
				if (tags.len)
					buf_append(&tags, ", ", 2);
				buf_append(&tags, rn, strlen(rn));
			}
		}
		rc = wh_err(err, WH_EINPUT, "%s: no image tagged \"%s\" (tags: %s)", img->path, tag,
		            tags.len ? (char *)tags.data : "none");
		buf_free(&tags);
		goto out;
	}
	if (cl.n == 0) {
		rc = wh_err(err, WH_EINPUT, "%s: no image manifest in the index (only attestations?)", img->path);
		goto out;
	}
	/* one manifest under several tags (or listed twice) is one image */
	{
		size_t kept = 0;
		for (size_t k = 0; k < cl.n; k++) {
			const char *dk = json_string_value(json_object_get(cl.v[k].desc, "digest"));
			int dup = 0;
			for (size_t j = 0; j < kept && dk; j++) {
				const char *dj = json_string_value(json_object_get(cl.v[j].desc, "digest"));
				if (dj && !strcmp(dj, dk))
					dup = 1;
			}
			if (!dup)
				cl.v[kept++] = cl.v[k];
		}
		cl.n = kept;
	}
	if (cl.n == 1) {
		*chosen = cl.v[0].desc;
		goto out;
	}
	/* Several images without a tag: the user must name one. */
	if (!tag) {
		int several_tags = 0;
		for (size_t k = 1; k < cl.n; k++)
			if ((cl.v[k].tag == NULL) != (cl.v[0].tag == NULL) ||
			    (cl.v[k].tag && strcmp(cl.v[k].tag, cl.v[0].tag)))
				several_tags = 1;
		if (several_tags) {
			struct buf tags = {0};
			json_array_foreach(ms, i, d)
			{
				const char *rn = ann(d, "org.opencontainers.image.ref.name");
				if (tags.len)
					buf_append(&tags, ", ", 2);
				if (rn)
					buf_append(&tags, rn, strlen(rn));
				else
					buf_append(&tags, "(untagged)", 10);
			}
			rc = wh_err(err, WH_EINPUT, "%s: holds several images; name one with :TAG (tags: %s)",
			            img->path, (char *)tags.data);
			buf_free(&tags);
			goto out;
		}
	}
	/* Several platforms remain: choose by platform. */
	char os[64] = "linux", arch[64], variant[64] = "";
	snprintf(arch, sizeof arch, "%s", host_arch());
	if (opts && opts->platform) {
		char tmp[192];
		snprintf(tmp, sizeof tmp, "%s", opts->platform);
		char *a = strchr(tmp, '/');
		if (!a) {
			rc = wh_err(err, WH_EINPUT, "--platform %s: expected OS/ARCH[/VARIANT]", opts->platform);
			goto out;
		}
		*a++ = 0;
		char *v = strchr(a, '/');
		if (v)
			*v++ = 0;
		snprintf(os, sizeof os, "%s", tmp);
		snprintf(arch, sizeof arch, "%s", a);
		if (v)
			snprintf(variant, sizeof variant, "%s", v);
	}
	for (size_t k = 0; k < cl.n; k++)
		if (platform_matches(cl.v[k].desc, os, arch, variant[0] ? variant : NULL)) {
			*chosen = cl.v[k].desc;
			goto out;
		}
	{
		struct buf pl = {0};
		for (size_t k = 0; k < cl.n; k++) {
			json_t *p = json_object_get(cl.v[k].desc, "platform");
			const char *pos = json_string_value(json_object_get(p, "os"));
			const char *parch = json_string_value(json_object_get(p, "architecture"));
			const char *pvar = json_string_value(json_object_get(p, "variant"));
			char one[200];
			snprintf(one, sizeof one, "%s%s/%s%s%s", pl.len ? ", " : "", pos ? pos : "?", parch ? parch : "?",
			         pvar ? "/" : "", pvar ? pvar : "");
			buf_append(&pl, one, strlen(one));
		}
		rc = wh_err(err, WH_EINPUT, "%s: no manifest for platform %s/%s%s%s (has: %s); use --platform",
		            img->path, os, arch, variant[0] ? "/" : "", variant, (char *)pl.data);
		buf_free(&pl);
	}
out:
	free(cl.v);
	return rc;
}

/* --- the config ----------------------------------------------------------- */

static int is_hex64(const char *s, size_t n)
{
	if (n < 64)
		return 0;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* A docker-archive member name that carries its digest: blobs/sha256/HEX,
 * sha256:HEX, HEX.json, HEX.tar, HEX.tar.gz (kaniko, skopeo). */
static int digest_from_name(const char *name, char out[WH_DIGEST_LEN])
{
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (!strncmp(base, "sha256:", 7))
		base += 7;
	size_t n = strlen(base);
	if (!is_hex64(base, n))
		return 0;
	const char *rest = base + 64;
	if (*rest && strcmp(rest, ".json") && strcmp(rest, ".tar") && strcmp(rest, ".tar.gz") &&
	    strcmp(rest, ".tar.zst"))
		return 0;
	snprintf(out, WH_DIGEST_LEN, "sha256:%.64s", base);
	return 1;
}

static int finish_config(struct wh_image *img, struct wh_error *err)
{
	json_t *c = img->config;
	if (!json_is_object(c))
		return wh_err(err, WH_EINPUT, "%s: image config is not a JSON object", img->path);
	const char *s;
	img->architecture = xstrdup((s = json_string_value(json_object_get(c, "architecture"))) ? s : "");
	img->os = xstrdup((s = json_string_value(json_object_get(c, "os"))) ? s : "");
	s = json_string_value(json_object_get(c, "variant"));
	img->variant = s ? xstrdup(s) : NULL;
	json_t *ids = json_object_get(json_object_get(c, "rootfs"), "diff_ids");
	if (!json_is_array(ids))
		return wh_err(err, WH_EINPUT, "%s: image config has no rootfs.diff_ids", img->path);
	if (json_array_size(ids) != img->n_layers)
		return wh_err(err, WH_EINPUT,
		              "%s: the manifest lists %zu layers but the config's rootfs.diff_ids has %zu",
		              img->path, img->n_layers, json_array_size(ids));
	for (size_t i = 0; i < img->n_layers; i++) {
		const char *id = json_string_value(json_array_get(ids, i));
		if (!id || !digest_valid(id))
			return wh_err(err, WH_EINPUT, "%s: config diff_id %zu is not a sha256 digest", img->path, i);
		snprintf(img->layers[i].diff_id, WH_DIGEST_LEN, "%s", id);
		img->layers[i].index = i;
	}
	/* history: non-empty entries map to layers in order */
	json_t *hist = json_object_get(c, "history");
	size_t li = 0, i;
	json_t *h;
	json_array_foreach(hist, i, h)
	{
		if (json_is_true(json_object_get(h, "empty_layer")))
			continue;
		if (li >= img->n_layers)
			break;
		const char *cb = json_string_value(json_object_get(h, "created_by"));
		img->layers[li++].command = xstrdup(cb ? cb : "");
	}
	for (; li < img->n_layers; li++)
		img->layers[li].command = xstrdup("");
	return 0;
}

/* --- the three layouts ------------------------------------------------------ */

static int layers_from_oci_manifest(struct wh_image *img, json_t *man, struct wh_error *err)
{
	json_t *ls = json_object_get(man, "layers");
	json_t *cfg = json_object_get(man, "config");
	if (!json_is_array(ls) || !json_is_object(cfg))
		return wh_err(err, WH_EINPUT, "%s: manifest %s has no config or layers", img->path, img->manifest_digest);
	img->n_layers = json_array_size(ls);
	img->layers = xcalloc(img->n_layers ? img->n_layers : 1, sizeof *img->layers);
	for (size_t i = 0; i < img->n_layers; i++) {
		json_t *d = json_array_get(ls, i);
		const char *dg = json_string_value(json_object_get(d, "digest"));
		const char *mt = json_string_value(json_object_get(d, "mediaType"));
		if (!dg)
			return wh_err(err, WH_EINPUT, "%s: layer %zu of manifest %s has no digest", img->path, i,
			              img->manifest_digest);
		int rc = blob_by_digest(img, dg, d, 0, &img->layers[i].blob, err);
		if (rc < 0)
			return rc;
		json_t *sz = json_object_get(d, "size");
		if (json_is_integer(sz) && (uint64_t)json_integer_value(sz) != img->layers[i].blob.length)
			return wh_err(err, WH_EINPUT, "%s: layer blob %s is %llu bytes, the manifest says %lld", img->path,
			              img->layers[i].blob.name, (unsigned long long)img->layers[i].blob.length,
			              (long long)json_integer_value(sz));
		snprintf(img->layers[i].digest, WH_DIGEST_LEN, "%s", dg);
		img->layers[i].verify_digest = 1;
		img->layers[i].media_type = xstrdup(mt ? mt : "");
	}
	const char *cdg = json_string_value(json_object_get(cfg, "digest"));
	if (!cdg)
		return wh_err(err, WH_EINPUT, "%s: manifest config has no digest", img->path);
	struct wh_blobref cb;
	int rc = blob_by_digest(img, cdg, cfg, FETCH_SMALL_MAX, &cb, err);
	if (rc < 0)
		return rc;
	rc = read_json_blob(img, &cb, cdg, &img->config, err);
	if (!img->is_archive)
		free((char *)cb.file);
	if (rc < 0)
		return rc;
	snprintf(img->config_digest, WH_DIGEST_LEN, "%s", cdg);
	return finish_config(img, err);
}

static int open_oci(struct wh_image *img, const char *tag, const struct wh_open_opts *opts, struct wh_error *err)
{
	json_t *index = NULL;
	int rc;
	struct wh_blobref ib;
	memset(&ib, 0, sizeof ib);
	char *full = NULL;
	if (img->is_archive) {
		rc = blob_in_archive(img, "index.json", &ib, err);
		if (rc < 0)
			return rc;
	} else {
		full = xasprintf("%s/index.json", img->path);
		struct stat st;
		if (stat(full, &st) < 0) {
			rc = wh_err(err, WH_EINPUT, "%s: no index.json (not an OCI layout?)", img->path);
			free(full);
			return rc;
		}
		ib.file = full;
		ib.length = (uint64_t)st.st_size;
		snprintf(ib.name, sizeof ib.name, "%s", full);
	}
	snprintf(ib.name, sizeof ib.name, "index.json");
	rc = read_json_blob(img, &ib, NULL, &index, err);
	free(full);
	if (rc < 0) {
		wh_err_prefix(err, "%s: ", img->path);
		return rc;
	}
	struct jsonkeep keep = {0};
	json_t *chosen = NULL;
	rc = pick_from_index(img, index, tag, opts, &keep, &chosen, err);
	json_t *man = NULL;
	if (rc == 0) {
		const char *dg = json_string_value(json_object_get(chosen, "digest"));
		if (!dg) {
			rc = wh_err(err, WH_EINPUT, "%s: manifest descriptor without a digest", img->path);
		} else {
			struct wh_blobref mb;
			rc = blob_by_digest(img, dg, chosen, FETCH_SMALL_MAX, &mb, err);
			if (rc == 0) {
				rc = read_json_blob(img, &mb, dg, &man, err);
				if (!img->is_archive)
					free((char *)mb.file);
			}
			if (rc == 0) {
				snprintf(img->manifest_digest, WH_DIGEST_LEN, "%s", dg);
				if (is_index_type(json_string_value(json_object_get(man, "mediaType"))))
					rc = wh_err(err, WH_EINPUT, "%s: %s is an index, not a manifest", img->path, dg);
				else
					rc = layers_from_oci_manifest(img, man, err);
			}
		}
	}
	json_decref(man);
	for (size_t i = 0; i < keep.n; i++)
		json_decref(keep.v[i]);
	free(keep.v);
	json_decref(index);
	return rc;
}

static int repotag_matches(json_t *tags, const char *want)
{
	size_t i;
	json_t *t;
	json_array_foreach(tags, i, t)
	{
		const char *s = json_string_value(t);
		if (!s)
			continue;
		if (!strcmp(s, want))
			return 1;
		/* "docker.io/library/busybox:latest" ~ "busybox:latest" */
		const char *p = s;
		if (!strncmp(p, "docker.io/", 10))
			p += 10;
		if (!strncmp(p, "library/", 8))
			p += 8;
		const char *w = want;
		if (!strncmp(w, "docker.io/", 10))
			w += 10;
		if (!strncmp(w, "library/", 8))
			w += 8;
		if (!strcmp(p, w))
			return 1;
	}
	return 0;
}

static int open_docker_archive(struct wh_image *img, const char *sel, struct wh_error *err)
{
	struct wh_blobref mb;
	int rc = blob_in_archive(img, "manifest.json", &mb, err);
	if (rc < 0)
		return rc;
	json_t *man = NULL;
	rc = read_json_blob(img, &mb, NULL, &man, err);
	if (rc < 0) {
		wh_err_prefix(err, "%s: ", img->path);
		return rc;
	}
	json_t *entry = NULL;
	if (!json_is_array(man) || json_array_size(man) == 0) {
		rc = wh_err(err, WH_EINPUT, "%s: manifest.json lists no images", img->path);
		goto out;
	}
	if (sel && sel[0] == '@') {
		char *end;
		long n = strtol(sel + 1, &end, 10);
		if (*end || n < 0 || (size_t)n >= json_array_size(man)) {
			rc = wh_err(err, WH_EINPUT, "%s: no image @%s (the archive has %zu, counted from 0)", img->path,
			            sel + 1, json_array_size(man));
			goto out;
		}
		entry = json_array_get(man, (size_t)n);
	} else if (sel) {
		size_t i;
		json_t *e;
		json_array_foreach(man, i, e) if (repotag_matches(json_object_get(e, "RepoTags"), sel))
		{
			entry = e;
			break;
		}
	} else if (json_array_size(man) == 1) {
		entry = json_array_get(man, 0);
	}
	if (!entry) {
		struct buf tags = {0};
		size_t i, j;
		json_t *e, *t;
		json_array_foreach(man, i, e)
		{
			char one[32];
			snprintf(one, sizeof one, "%s@%zu", tags.len ? "; " : "", i);
			buf_append(&tags, one, strlen(one));
			json_array_foreach(json_object_get(e, "RepoTags"), j, t)
			{
				const char *s = json_string_value(t);
				if (s) {
					buf_append(&tags, " ", 1);
					buf_append(&tags, s, strlen(s));
				}
			}
		}
		if (sel)
			rc = wh_err(err, WH_EINPUT, "%s: no image \"%s\" in the archive (images: %s)", img->path, sel,
			            (char *)tags.data);
		else
			rc = wh_err(err, WH_EINPUT, "%s: holds several images; name one with :NAME:TAG or @N (images: %s)",
			            img->path, (char *)tags.data);
		buf_free(&tags);
		goto out;
	}
	const char *cfgname = json_string_value(json_object_get(entry, "Config"));
	json_t *ls = json_object_get(entry, "Layers");
	if (!cfgname || !json_is_array(ls)) {
		rc = wh_err(err, WH_EINPUT, "%s: manifest.json entry without Config or Layers", img->path);
		goto out;
	}
	struct wh_blobref cb;
	rc = blob_in_archive(img, cfgname, &cb, err);
	if (rc < 0)
		goto out;
	char cdg[WH_DIGEST_LEN] = "";
	int named = digest_from_name(cfgname, cdg);
	rc = read_json_blob(img, &cb, named ? cdg : NULL, &img->config, err);
	if (rc < 0)
		goto out;
	if (!named) {
		struct buf cbytes = {0};
		image_read_blob(img, &cb, NULL, SMALL_BLOB_MAX, &cbytes, NULL);
		digest_buf(cbytes.data, cbytes.len, cdg);
		buf_free(&cbytes);
	}
	snprintf(img->config_digest, WH_DIGEST_LEN, "%s", cdg);
	img->n_layers = json_array_size(ls);
	img->layers = xcalloc(img->n_layers ? img->n_layers : 1, sizeof *img->layers);
	for (size_t i = 0; i < img->n_layers; i++) {
		const char *ln = json_string_value(json_array_get(ls, i));
		if (!ln) {
			rc = wh_err(err, WH_EINPUT, "%s: manifest.json layer %zu is not a name", img->path, i);
			goto out;
		}
		rc = blob_in_archive(img, ln, &img->layers[i].blob, err);
		if (rc < 0)
			goto out;
		if (digest_from_name(ln, img->layers[i].digest))
			img->layers[i].verify_digest = 1;
		img->layers[i].media_type = xstrdup("application/vnd.docker.image.rootfs.diff.tar");
	}
	/* Docker 25+ also has an OCI layout with media types: take them when it names these blobs */
	rc = finish_config(img, err);
out:
	json_decref(man);
	return rc;
}

/* --- references ------------------------------------------------------------ */

static int starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* "PATH[:REST]": split at the first ':' (paths with ':' need the transport's own quoting, as in skopeo). */
static void split_ref(const char *s, char **path, char **rest)
{
	const char *c = strchr(s, ':');
	if (c && access(s, F_OK) != 0) {
		*path = xstrndup(s, (size_t)(c - s));
		*rest = xstrdup(c + 1);
	} else {
		*path = xstrdup(s);
		*rest = NULL;
	}
}

int image_open(const char *ref, const struct wh_open_opts *opts, struct wh_image *img, struct wh_error *err)
{
	memset(img, 0, sizeof *img);
	img->reference = xstrdup(ref);
	char *path = NULL, *rest = NULL;
	int rc;
	const char *kind, *format = NULL;
	if (starts(ref, "docker-daemon:")) {
		/* the engine's export, spooled, read as a docker-archive */
		kind = "docker-archive";
		format = "docker-daemon";
		rc = fetch_engine(ref + 14, &img->spool, &path, err);
		if (rc < 0)
			goto fail;
	} else if (starts(ref, "docker://")) {
		/* a registry: an OCI layout in a spool, blobs fetched as the reader asks */
		kind = "oci";
		format = "docker";
		rc = fetch_registry_open(ref + 9, !(opts && opts->tls_no_verify), &img->spool, &img->fetch, err);
		if (rc < 0)
			goto fail;
		path = xstrdup(img->spool);
	} else if (starts(ref, "docker-archive:")) {
		kind = "docker-archive";
		split_ref(ref + 15, &path, &rest);
	} else if (starts(ref, "oci-archive:")) {
		kind = "oci-archive";
		split_ref(ref + 12, &path, &rest);
	} else if (starts(ref, "oci:")) {
		kind = "oci";
		split_ref(ref + 4, &path, &rest);
	} else if (starts(ref, "containers-storage:")) {
		rc = wh_err(err, WH_EINPUT,
		            "%s: this transport is not supported yet; export the image first, e.g. "
		            "skopeo copy %s oci-archive:image.tar",
		            ref, ref);
		goto fail;
	} else {
		/* a bare path: sniff it */
		struct stat st;
		split_ref(ref, &path, &rest);
		int is_file = stat(path, &st) == 0;
		if (!is_file && fetch_is_engine_ref(ref)) {
			/* NAME:TAG that is no path: the engine, as in dive */
			free(path);
			free(rest);
			path = rest = NULL;
			kind = "docker-archive";
			format = "docker-daemon";
			rc = fetch_engine(ref, &img->spool, &path, err);
			if (rc < 0) {
				wh_err_prefix(err, "%s is no file; ", ref);
				goto fail;
			}
		} else if (!is_file) {
			rc = wh_err(err, WH_EINPUT, "%s: no such file or directory", path);
			goto fail;
		} else if (S_ISDIR(st.st_mode)) {
			kind = "oci";
		} else {
			struct tar_index ti;
			rc = tarscan_open(path, &ti, err);
			if (rc < 0)
				goto fail;
			int has_man = tarscan_find(&ti, "manifest.json") != NULL;
			int has_idx = tarscan_find(&ti, "index.json") != NULL;
			tarscan_free(&ti);
			if (has_man)
				kind = "docker-archive";
			else if (has_idx)
				kind = "oci-archive";
			else {
				rc = wh_err(err, WH_EINPUT,
				            "%s: a tar archive with neither manifest.json nor index.json: not an image", path);
				goto fail;
			}
		}
	}
	img->format = xstrdup(format ? format : kind);
	img->path = path;
	path = NULL;
	if (!strcmp(kind, "oci")) {
		struct stat st;
		if (stat(img->path, &st) < 0 || !S_ISDIR(st.st_mode)) {
			rc = wh_err(err, WH_EINPUT, "%s: not a directory (oci: wants an OCI layout directory)", img->path);
			goto fail;
		}
		rc = open_oci(img, rest, opts, err);
	} else {
		img->is_archive = 1;
		rc = tarscan_open(img->path, &img->tar, err);
		if (rc < 0)
			goto fail;
		if (!strcmp(kind, "oci-archive"))
			rc = open_oci(img, rest, opts, err);
		else
			rc = open_docker_archive(img, rest, err);
	}
	if (rc < 0)
		goto fail;
	free(rest);
	return 0;
fail:
	free(path);
	free(rest);
	image_free(img);
	return rc;
}

void image_free(struct wh_image *img)
{
	for (size_t i = 0; i < img->n_layers; i++) {
		struct wh_layer *l = &img->layers[i];
		if (!img->is_archive)
			free((char *)l->blob.file);
		free(l->media_type);
		free(l->command);
		free(l->entries);
		arena_free(&l->arena);
	}
	free(img->layers);
	json_decref(img->config);
	tarscan_free(&img->tar);
	free(img->reference);
	free(img->format);
	free(img->path);
	free(img->architecture);
	free(img->os);
	free(img->variant);
	fetch_registry_free(img->fetch);
	if (img->spool)
		fetch_spool_remove(img->spool);
	free(img->spool);
	memset(img, 0, sizeof *img);
}

json_t *image_config_get(const struct wh_image *img, const char *key)
{
	return json_object_get(json_object_get(img->config, "config"), key);
}

const char *image_config_str(const struct wh_image *img, const char *key)
{
	return json_string_value(image_config_get(img, key));
}
