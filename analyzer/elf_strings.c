/* elf_strings: absolute path strings in read-only data, as bytes pass. */
#include "analyzer/elf_strings.h"

#include <stdlib.h>
#include <string.h>

#include "analyzer/util.h"

void elf_strscan_init(struct elf_strscan *sc, size_t max)
{
	memset(sc, 0, sizeof *sc);
	sc->max = max;
}

void elf_strscan_range(struct elf_strscan *sc)
{
	sc->state = 0;
	sc->len = 0;
}

static int name_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
	       ch == '_';
}

static int path_char(unsigned char ch)
{
	return name_char(ch) || ch == '/' || ch == '-' || ch == '+' || ch == '@' || ch == '~' || ch == ':' ||
	       ch == ',' || ch == '=';
}

static void candidate_done(struct elf_strscan *sc)
{
	if (sc->len < 3 || !name_char((unsigned char)sc->cur[1]) || strstr(sc->cur, "//"))
		return;
	sc->cur[sc->len] = 0;
	for (size_t i = 0; i < sc->n; i++)
		if (strcmp(sc->paths[i], sc->cur) == 0)
			return;
	if (sc->n >= sc->max) {
		sc->truncated = 1;
		return;
	}
	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 16;
		sc->paths = xrealloc(sc->paths, sc->cap * sizeof *sc->paths);
	}
	sc->paths[sc->n++] = xstrdup(sc->cur);
}

void elf_strscan_feed(struct elf_strscan *sc, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = d[i];
		switch (sc->state) {
		case 0:
			if (ch == '/') {
				sc->cur[0] = '/';
				sc->len = 1;
				sc->state = 1;
			} else if (ch != 0) {
				sc->state = 2;
			}
			break;
		case 1:
			if (ch == 0) {
				candidate_done(sc);
				sc->state = 0;
			} else if (path_char(ch) && sc->len < ELF_PATH_LEN - 1) {
				sc->cur[sc->len++] = (char)ch;
			} else {
				sc->state = 2;
			}
			break;
		default:
			if (ch == 0)
				sc->state = 0;
			break;
		}
	}
}

char **elf_strscan_take(struct elf_strscan *sc, size_t *n, int *truncated)
{
	char **p = sc->paths;
	*n = sc->n;
	*truncated = sc->truncated;
	sc->paths = NULL;
	sc->n = sc->cap = 0;
	return p;
}

void elf_strscan_free(struct elf_strscan *sc)
{
	for (size_t i = 0; i < sc->n; i++)
		free(sc->paths[i]);
	free(sc->paths);
	sc->paths = NULL;
	sc->n = sc->cap = 0;
}
