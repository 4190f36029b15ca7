/* source: the model every view reads. An image, its layers, each layer's
 * entries (as streamed from its tar), and where its blobs live. */
#ifndef WH_SOURCE_H
#define WH_SOURCE_H

#include <stdint.h>
#include <stddef.h>
#include <jansson.h>

#include "analyzer/digest.h"
#include "analyzer/tarscan.h"
#include "analyzer/util.h"

struct elf_info;
struct fetch_registry;

enum wh_ftype {
	WH_T_REG,
	WH_T_DIR,
	WH_T_SYMLINK,
	WH_T_HARDLINK,
	WH_T_CHR,
	WH_T_BLK,
	WH_T_FIFO,
	WH_T_SOCK,
	WH_T_WHITEOUT, /* path = the path it removes */
	WH_T_OPAQUE,   /* path = the directory whose lower children it hides */
};

/* Facts only some files have; NULL for most entries. */
struct wh_extra {
	struct elf_info *elf;  /* ELF facts, or NULL */
	char *shebang;         /* the "#!" line without "#!" and newline */
	uint8_t *content;      /* whole content of files the analysis reads */
	size_t content_len;
	uint64_t captured;     /* WH_F_TRUNCATED: the bytes the analysis kept of it */
};

enum {
	WH_F_XATTR = 1,      /* has xattrs (capabilities included) */
	WH_F_BIGELF = 2,     /* an ELF whose needed parts lie beyond what a forward read keeps */
	WH_F_BADELF = 4,     /* ELF magic, but not a parseable ELF */
	WH_F_TRUNCATED = 8,  /* a cap kept the analysis from reading all it wanted (extra->captured) */
};

/* One tar entry of one layer. Lean: 80 bytes + its name. */
struct wh_entry {
	const char *path;      /* normalized image path, no leading "/"; "" is the root */
	const char *link;      /* symlink target as written; hard link target normalized */
	const char *tar_name;  /* the name in the tar when it was written through a symlinked
	                          parent (tree_build then sets path to where it landed), else NULL */
	struct wh_extra *extra;
	uint64_t size;         /* regular file: its size; directory whiteout: the bytes it hides (dive's
	                          figure, set by tree_build); 0 otherwise */
	int64_t mtime;
	uint32_t mode;         /* permission bits (07777) */
	uint32_t uid, gid;
	uint8_t type;          /* enum wh_ftype */
	uint8_t flags;         /* WH_F_* */
	uint8_t hash[16];      /* first half of the SHA-256 of the content (regular files) */
};

/* The entry's name in its layer's tar (what a reader of the layer matches). */
static inline const char *entry_tar_name(const struct wh_entry *e)
{
	return e->tar_name ? e->tar_name : e->path;
}

/* Where a blob's bytes are on this host: a file, or a span of an archive. */
struct wh_blobref {
	const char *file;  /* host path (the archive, or the blob file) */
	uint64_t offset;
	uint64_t length;
	char name[256];    /* how to name it in messages: archive member or blob path */
};

struct wh_layer {
	size_t index;
	char digest[WH_DIGEST_LEN];  /* the blob as stored */
	char diff_id[WH_DIGEST_LEN]; /* sha256 of the uncompressed tar */
	char *media_type;
	char *command;               /* history created_by */
	struct wh_blobref blob;
	int verify_digest;           /* the descriptor names the blob's digest */
	const char *compression;     /* "none", "gzip", "zstd" (from the bytes) */

	struct wh_entry *entries;
	size_t n_entries;
	struct arena arena;          /* names, extras */
	uint64_t size_bytes;         /* sum of regular file sizes (dive's layer size) */

	/* filled by the merge */
	uint64_t added, modified, removed;
};

struct wh_image {
	char *reference;
	char *format;       /* "docker-archive", "oci", "oci-archive", "docker-daemon", "docker" */
	char *path;         /* host path of the archive or layout directory */
	char *architecture, *os, *variant;
	char config_digest[WH_DIGEST_LEN];
	char manifest_digest[WH_DIGEST_LEN]; /* "" for legacy docker-archive */
	json_t *config;     /* the whole image config */
	struct wh_layer *layers;
	size_t n_layers;
	struct tar_index tar; /* for archives */
	int is_archive;
	char *spool;        /* engine or registry source: the temporary copy (fetch.h), removed by image_free */
	struct fetch_registry *fetch; /* registry source: fetches blobs on demand */
};

struct wh_open_opts {
	const char *platform; /* "os/arch[/variant]" or NULL (host) */
	int tls_no_verify;    /* registries: accept any certificate and plain HTTP (--tls-verify=false) */
};

/* Parse the reference, read manifest and config, verify the config blob,
 * list the layers. Nothing of the layers is read yet. */
int image_open(const char *ref, const struct wh_open_opts *opts, struct wh_image *img,
               struct wh_error *err);
void image_free(struct wh_image *img);

/* Read a whole small blob (manifest, config) into memory, verifying its
 * size and digest when given. */
int image_read_blob(const struct wh_image *img, const struct wh_blobref *b, const char *want_digest,
                    size_t max, struct buf *out, struct wh_error *err);

/* Config helpers */
const char *image_config_str(const struct wh_image *img, const char *key); /* config.config.KEY */
json_t *image_config_get(const struct wh_image *img, const char *key);     /* config.config.KEY */

#endif
