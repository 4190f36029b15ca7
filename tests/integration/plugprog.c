/* plugprog: a program that dlopens a plugin by a name it builds at run time
 * (argv[1], default "hello") from a directory it names, /usr/lib/whplug;
 * prints plug=N from the plugin's plug(), or "no plugin" and exits 1.
 * Built by the tests of the uncertain list (reach_needs, tui_uncertain);
 * plug.c is the plugin. */
#include <dlfcn.h>
#include <stdio.h>
static const char *const dir = "/usr/lib/whplug";
int main(int argc, char **argv)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s.so", dir, argc > 1 ? argv[1] : "hello");
	void *h = dlopen(p, RTLD_NOW);
	if (!h) {
		puts("no plugin");
		return 1;
	}
	int (*f)(void) = (int (*)(void))dlsym(h, "plug");
	printf("plug=%d\n", f ? f() : -1);
	return 0;
}
