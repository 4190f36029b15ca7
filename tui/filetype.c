#include "tui/filetype.h"

#include <archive.h>
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/elf.h"
#include "analyzer/layer_index.h"

#define HEAD_MAX 65536

static magic_t cookie;
static int cookie_failed;

static magic_t get_cookie(void)
{
	if (cookie || cookie_failed)
		return cookie;
	cookie = magic_open(MAGIC_NONE | MAGIC_NO_CHECK_COMPRESS);
	if (cookie && magic_load(cookie, NULL) != 0) {
		magic_close(cookie);
		cookie = NULL;
	}
	if (!cookie)
		cookie_failed = 1;
	return cookie;
}

void filetype_done(void)
{
	if (cookie)
		magic_close(cookie);
	cookie = NULL;
}

const char *filetype_kind_name(const struct wh_node *n)
{
	switch (n->type) {
	case WH_T_REG: return "regular file";
	case WH_T_DIR: return n->e ? "directory" : "directory (no layer lists it)";
	case WH_T_SYMLINK: return "symbolic link";
	case WH_T_HARDLINK: return "hard link";
	case WH_T_CHR: return "character device";
	case WH_T_BLK: return "block device";
	case WH_T_FIFO: return "fifo";
	case WH_T_SOCK: return "socket";
	default: return "entry";
	}
}

/* Read up to HEAD_MAX bytes of one file from its layer. */
struct head_read {
	const char *path;
	uint8_t *buf;
	size_t len;
	int found;
};

static int head_visit(void *ctx, struct archive *a, struct archive_entry *e, const char *norm)
{
	(void)e;
	struct head_read *h = ctx;
	if (strcmp(norm, h->path))
		return 0;
	la_ssize_t r;
	while (h->len < HEAD_MAX && (r = archive_read_data(a, h->buf + h->len, HEAD_MAX - h->len)) > 0)
		h->len += (size_t)r;
	h->found = 1;
	return WH_EINTR; /* stop the stream: we have what we need */
}

static void from_elf(const struct wh_entry *e, char *out, size_t len)
{
	const struct elf_info *el = e->extra->elf;
	const char *m = elf_machine_name(el->machine);
	const char *kind = el->type == 2 ? "executable" : el->type == 3 ? (el->is_pie ? "pie executable" : "shared object")
	                 : el->type == 1 ? "relocatable" : "file";
	snprintf(out, len, "ELF %d-bit %s %s, %s%s%s%s (from the index pass)", el->elf_class == 2 ? 64 : 32,
	         el->data == 2 ? "MSB" : "LSB", kind, m ? m : "unknown machine",
	         el->interp ? ", dynamically linked, interpreter " : el->has_dynamic ? ", dynamically linked" : ", statically linked",
	         el->interp ? el->interp : "", "");
}

static void magic_of(const void *buf, size_t n, char *out, size_t len)
{
	magic_t c = get_cookie();
	const char *d = c ? magic_buffer(c, buf, n) : NULL;
	snprintf(out, len, "%s", d ? d : "unknown (libmagic could not load its database)");
}

void filetype_describe(const struct wh_image *img, const struct wh_node *n, char *out, size_t len)
{
	const struct wh_entry *e = n->e;
	if (!e || n->type != WH_T_REG) {
		if (e && n->type == WH_T_SYMLINK)
			snprintf(out, len, "symbolic link to %s", e->link ? e->link : "?");
		else if (e && n->type == WH_T_HARDLINK)
			snprintf(out, len, "hard link to /%s", e->link ? e->link : "?");
		else
			snprintf(out, len, "%s", filetype_kind_name(n));
		return;
	}
	if (e->size == 0) {
		snprintf(out, len, "empty");
		return;
	}
	if (e->extra && e->extra->content) {
		magic_of(e->extra->content, e->extra->content_len, out, len);
		return;
	}
	/* read the head of the file from its layer */
	if (n->layer < img->n_layers) {
		struct head_read h = {.path = entry_tar_name(e), .buf = xmalloc(HEAD_MAX)};
		struct wh_error err = {0};
		layer_stream(&img->layers[n->layer], head_visit, &h, &err);
		if (h.found) {
			magic_of(h.buf, h.len, out, len);
			free(h.buf);
			return;
		}
		free(h.buf);
	}
	/* what the index pass kept */
	if (e->extra && e->extra->elf) {
		from_elf(e, out, len);
	} else if (e->extra && e->extra->shebang) {
		char line[600];
		snprintf(line, sizeof line, "#!%s\n", e->extra->shebang);
		magic_of(line, strlen(line), out, len);
	} else {
		snprintf(out, len, "unknown (the layer could not be read again)");
	}
}
