/* plug: the plugin tests/integration/plugprog.c loads */
int plug(void);
int plug(void) { return 7; }
