/* fuzz_elf: elf_parse, elf_bytes_needed and elf_stream on arbitrary bytes.
 * The stream (fed in chunks whose sizes come from the input) must agree
 * with the whole-buffer parse unless it says it was truncated. */
#include <stdlib.h>
#include <string.h>

#include "analyzer/elf.h"
#include "fuzz.h"

int fuzz_elf(const uint8_t *data, size_t size)
{
	/* a private copy of exactly size bytes, so ASan sees any over-read */
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	(void)elf_is_elf(buf, size);
	/* the streaming caller's view: needed bytes of a prefix never exceed the size */
	for (size_t pre = 64; ; pre *= 4) {
		size_t l = pre < size ? pre : size;
		uint64_t need = elf_bytes_needed(buf, l, size);
		if (need > size)
			abort();
		if (l == size)
			break;
	}
	struct elf_info info;
	struct wh_error err = {0};
	int rc = elf_parse(buf, size, &info, &err);
	fuzz_report("elf_parse", rc, err.msg);
	struct elf_stream st;
	elf_stream_init(&st, size, size / 2 + 64); /* a cap that sometimes hits */
	for (size_t o = 0, k = 0; o < size; k++) {
		size_t c = 1 + (size ? buf[(k * 131) % size] : 0) * (k % 3 == 0 ? 1 : 37);
		if (c > size - o)
			c = size - o;
		elf_stream_feed(&st, buf + o, c);
		o += c;
	}
	struct elf_info sinfo;
	struct wh_error serr = {0};
	int truncated = 0;
	int src = elf_stream_finish(&st, &sinfo, &truncated, &serr);
	if (src < 0 && !serr.msg[0])
		abort();
	if (!truncated) {
		if (src != rc)
			abort(); /* the stream disagrees with the whole parse */
		if (rc == 0) {
			if (sinfo.n_needed != info.n_needed || sinfo.imports != info.imports ||
			    !sinfo.interp != !info.interp)
				abort();
			for (size_t i = 0; i < info.n_needed; i++)
				if (strcmp(sinfo.needed[i], info.needed[i]))
					abort();
		}
	}
	if (src == 0)
		elf_info_free(&sinfo);
	if (rc == 0) {
		(void)elf_machine_name(info.machine);
		for (size_t i = 0; i < info.n_needed; i++)
			if (!info.needed[i] || strlen(info.needed[i]) > size)
				abort();
		elf_info_free(&info);
	} else if (!err.msg[0]) {
		abort(); /* an error must say why */
	}
	free(buf);
	return 0;
}

WH_FUZZ_MAIN(fuzz_elf)
