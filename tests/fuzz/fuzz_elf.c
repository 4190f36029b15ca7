/* fuzz_elf: elf_parse and elf_bytes_needed on arbitrary bytes. */
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
