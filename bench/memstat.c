/* memstat: bytes the model holds per entry, counted from the structures
 * themselves (not RSS): the layer entries with their names and extras, and
 * the merged tree's nodes and hash slots.
 * usage: memstat IMAGE */
#include <stdio.h>
#include "analyzer/analysis.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: memstat IMAGE\n");
		return 2;
	}
	struct analysis a;
	struct wh_error err = {0};
	struct analysis_opts o = {.jobs = 1};
	if (analysis_run(argv[1], &o, &a, &err) < 0) {
		fprintf(stderr, "memstat: %s\n", err.msg);
		return 2;
	}
	size_t entries = 0, entry_bytes = 0;
	for (size_t i = 0; i < a.img.n_layers; i++) {
		entries += a.img.layers[i].n_entries;
		entry_bytes += a.img.layers[i].n_entries * sizeof(struct wh_entry) + a.img.layers[i].arena.used_total;
	}
	size_t tree_bytes = a.tree.arena.used_total + a.tree.nslots * sizeof *a.tree.slots;
	printf("entries: %zu, %zu bytes (%.1f per entry: %zu-byte struct + name and extras)\n", entries, entry_bytes,
	       (double)entry_bytes / (double)(entries ? entries : 1), sizeof(struct wh_entry));
	printf("tree: %zu nodes, %zu bytes (%.1f per node: %zu-byte struct + hash slots)\n", a.tree.n_nodes,
	       tree_bytes, (double)tree_bytes / (double)(a.tree.n_nodes ? a.tree.n_nodes : 1), sizeof(struct wh_node));
	printf("together: %.1f bytes per entry\n",
	       (double)(entry_bytes + tree_bytes) / (double)(entries ? entries : 1));
	analysis_free(&a);
	return 0;
}
