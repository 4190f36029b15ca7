/* fuzz_ldso_cache: ldso_cache_parse on arbitrary bytes, then lookups. */
#include <stdlib.h>
#include <string.h>

#include "analyzer/ldso.h"
#include "fuzz.h"

int fuzz_ldso_cache(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	struct ldso_cache c;
	struct wh_error err = {0};
	int rc = ldso_cache_parse(buf, size, &c, &err);
	fuzz_report("ldso_cache_parse", rc, err.msg);
	if (rc == 0) {
		for (size_t i = 0; i < c.n; i++) {
			if (!c.entries[i].key || !c.entries[i].value)
				abort();
			(void)ldso_cache_flags_ok(c.entries[i].flags, 62, 2);
		}
		if (c.n) {
			const char *paths[8];
			(void)ldso_cache_lookup(&c, c.entries[0].key, 62, 2);
			(void)ldso_cache_lookup_all(&c, c.entries[c.n - 1].key, 62, 2, paths, 8);
			(void)ldso_cache_lookup(&c, c.entries[c.n / 2].key, 183, 2);
		}
		(void)ldso_cache_lookup(&c, "libc.so.6", 62, 2);
		ldso_cache_free(&c);
	} else if (!err.msg[0]) {
		abort();
	}
	free(buf);
	return 0;
}

WH_FUZZ_MAIN(fuzz_ldso_cache)
