/*
 * malloc/free/calloc/posix_memalign of the freestanding WASM build. Blocks come from the end of
 * the heap (memory.grow as needed), 64-byte aligned, with their capacity in the 4 bytes before
 * them. Small blocks (≤ 1 MiB) are power-of-two classes with a free list each; large ones
 * (weights, scratch) are rounded to 64 KiB and reused first-fit from one free list when they are
 * at most twice the request.
 *
 * Thread safety: linear memory is shared with the pool's workers (wasm/pool.c), and kernels may
 * allocate inside a job (sf_attn.c's per-task score buffers), so every entry point holds one spin
 * lock (an i32 in linear memory, atomic exchange; no memory.atomic.wait, which a browser's main
 * thread may not use). Critical sections are a few dozen instructions, or one memory.grow.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT(name) __attribute__((export_name(#name)))

extern unsigned char __heap_base;
static uintptr_t g_brk;
static void *g_free[21];
static void *g_free_big;
static uint32_t g_lock;
#define SMALL_MAX ((size_t)1 << 20)

static inline void lock(void) {
  while (__atomic_exchange_n(&g_lock, 1, __ATOMIC_ACQUIRE)) {
    while (__atomic_load_n(&g_lock, __ATOMIC_RELAXED)) {
    }
  }
}
static inline void unlock(void) { __atomic_store_n(&g_lock, 0, __ATOMIC_RELEASE); }

static void *heap_take(size_t cap) {
  if (!g_brk) g_brk = ((uintptr_t)&__heap_base + 63) & ~(uintptr_t)63;
  const uint64_t start = (uint64_t)g_brk + 64;
  const uint64_t end = start + cap;
  if (end > ((uint64_t)1 << 32)) return NULL;
  const uint64_t have = (uint64_t)__builtin_wasm_memory_size(0) * 65536;
  if (end > have) {
    const uint64_t pages = (end - have + 65535) / 65536;
    if (__builtin_wasm_memory_grow(0, (size_t)pages) == (size_t)-1) return NULL;
  }
  g_brk = (uintptr_t)((end + 63) & ~(uint64_t)63);
  ((uint32_t *)(uintptr_t)start)[-1] = (uint32_t)cap;
  return (void *)(uintptr_t)start;
}

static inline uint32_t block_cap(void *p) { return ((uint32_t *)p)[-1]; }

static void *malloc_locked(size_t n) {
  if (n == 0) n = 1;
  if (n <= SMALL_MAX) {
    int c = 4;
    while (((size_t)1 << c) < n) c++;
    if (g_free[c]) {
      void **p = g_free[c];
      g_free[c] = *p;
      return p;
    }
    return heap_take((size_t)1 << c);
  }
  if (n > (size_t)0xffff0000u) return NULL;
  void **prev = &g_free_big;
  for (void *p = g_free_big; p; prev = (void **)p, p = *(void **)p)
    if (block_cap(p) >= n && block_cap(p) / 2 <= n) {
      *prev = *(void **)p;
      return p;
    }
  return heap_take((n + 65535) & ~(size_t)65535);
}

void *malloc(size_t n) {
  lock();
  void *p = malloc_locked(n);
  unlock();
  return p;
}

void free(void *p) {
  if (!p) return;
  lock();
  const uint32_t cap = block_cap(p);
  if (cap <= SMALL_MAX) {
    const int c = __builtin_ctz(cap);
    *(void **)p = g_free[c];
    g_free[c] = p;
  } else {
    *(void **)p = g_free_big;
    g_free_big = p;
  }
  unlock();
}

void *calloc(size_t n, size_t m) {
  void *p = malloc(n * m);
  if (p) memset(p, 0, n * m);
  return p;
}

int posix_memalign(void **p, size_t align, size_t n) {
  (void)align; /* every block is 64-aligned */
  *p = malloc(n);
  return *p ? 0 : 12;
}

EXPORT(sf_alloc) void *sf_alloc(uint32_t n) { return malloc(n); }
EXPORT(sf_free) void sf_free(void *p) { free(p); }
