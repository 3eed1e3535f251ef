/* Minimal <stdlib.h> for the freestanding wasm32 build (allocator in wasm/glue.c). */
#ifndef SF_WASM_STDLIB_H
#define SF_WASM_STDLIB_H
#include <stddef.h>
void *malloc(size_t n);
void *calloc(size_t n, size_t m);
void free(void *p);
int posix_memalign(void **p, size_t align, size_t n);
static inline int abs(int x) { return x < 0 ? -x : x; }
#endif
