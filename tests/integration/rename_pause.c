/* rename_pause: an LD_PRELOAD shim for tests/integration/layout.sh. A
 * rename() whose new path is $PAUSE_DIR/index.json first creates
 * $PAUSE_DIR.paused, then waits (at most 60 s) until $PAUSE_DIR.go exists:
 * the writer stops between reading and replacing index.json while the test
 * lets another writer commit. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rename(const char *from, const char *to)
{
	int (*real)(const char *, const char *) = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	const char *dir = getenv("PAUSE_DIR");
	char want[4096], mark[4096], go[4096];
	if (dir && snprintf(want, sizeof want, "%s/index.json", dir) < (int)sizeof want && !strcmp(to, want)) {
		snprintf(mark, sizeof mark, "%s.paused", dir);
		snprintf(go, sizeof go, "%s.go", dir);
		int fd = open(mark, O_WRONLY | O_CREAT, 0644);
		if (fd >= 0)
			close(fd);
		for (int i = 0; i < 6000 && access(go, F_OK) != 0; i++)
			usleep(10000);
	}
	return real(from, to);
}
