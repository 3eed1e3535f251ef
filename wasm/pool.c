/*
 * Work-sharing thread pool of the WASM build over shared linear memory (wasm threads proposal:
 * i32 atomics, memory.atomic.wait32 / notify). The same module is instantiated once on the main
 * thread and once per worker (src/backends/wasm/threads.ts), all on one shared WebAssembly.Memory;
 * each worker calls sf_worker_main(id) with its own __stack_pointer and stays in it until
 * sf_wasm_pool_stop(). sf_pool_run(fn, ctx) (the contract of native/sf_common.h: fn runs on the
 * caller with ith = 0 and on the workers that join in time; work is shared through atomics) works
 * like this:
 *
 *   g_job = generation << 9 | closed << 8 | active (workers inside fn, ≤ 255)
 *
 * The caller publishes fn/ctx, stores a new generation (open, active 0), notifies sleeping workers,
 * runs fn itself, then sets `closed` and spins until active is 0. A worker joins a job by a CAS
 * that increments `active` while the generation is the one it saw and the job is not closed, so a
 * worker that wakes late never enters a job the caller already finished, and the caller never
 * waits for a worker that is not running fn. Workers spin g_spin rounds on g_job, then sleep on it.
 * The caller spins on `active` too, and after g_spin rounds sleeps on g_job only where the host
 * allowed it (sf_wasm_pool_set_main_wait(1): Node's main thread; a browser's main thread may not
 * block) on g_done, which the worker that leaves a closed job last bumps and notifies.
 *
 * Workers with id ≥ threads - 1 (after setThreads lowered the count) park on g_park instead.
 */
#include <stdint.h>
#include "sf_common.h"

#define EXPORT(name) __attribute__((export_name(#name)))
#define MAX_WORKERS 63

#define JOB_ACTIVE 0xffu
#define JOB_CLOSED 0x100u
#define JOB_GEN_SHIFT 9

static uint32_t g_job __attribute__((aligned(64)));
static uint32_t g_waiting __attribute__((aligned(64))); /* workers inside memory.atomic.wait on g_job */
static uint32_t g_park __attribute__((aligned(64)));
static uint32_t g_done __attribute__((aligned(64))); /* bumped by the last worker leaving a closed job */
static uint32_t g_stop;
static uint32_t g_joined;       /* jobs joined by workers, for tests and diagnostics */
static uint32_t g_nth = 1;      /* threads taking part in a job, the caller included */
static uint32_t g_spin = 1u << 18;
static uint32_t g_main_wait;    /* 1: the caller may block in memory.atomic.wait32 */
static sf_task_fn g_fn;
static void *g_ctx;

static inline uint32_t ld(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }

/* Threads that take part in jobs (1..MAX_WORKERS+1). Returns the count now in effect. */
EXPORT(sf_wasm_pool_set_threads) int32_t sf_wasm_pool_set_threads(int32_t n) {
  if (n < 1) n = 1;
  if (n > MAX_WORKERS + 1) n = MAX_WORKERS + 1;
  __atomic_store_n(&g_nth, (uint32_t)n, __ATOMIC_SEQ_CST);
  __atomic_fetch_add(&g_park, 1, __ATOMIC_SEQ_CST);
  __builtin_wasm_memory_atomic_notify((int *)&g_park, (unsigned)-1);
  return n;
}

/* Busy-poll rounds of a worker before it sleeps (default 2^18, ~0.3 ms). */
EXPORT(sf_wasm_pool_set_spin) void sf_wasm_pool_set_spin(uint32_t rounds) { __atomic_store_n(&g_spin, rounds, __ATOMIC_SEQ_CST); }

/* 1: the thread calling sf_pool_run may block in memory.atomic.wait32 (Node); 0: it only spins (browser main thread). */
EXPORT(sf_wasm_pool_set_main_wait) void sf_wasm_pool_set_main_wait(int32_t on) { __atomic_store_n(&g_main_wait, on ? 1u : 0u, __ATOMIC_SEQ_CST); }

/* Ask every worker to return from sf_worker_main (after the job it may be running). */
EXPORT(sf_wasm_pool_stop) void sf_wasm_pool_stop(void) {
  __atomic_store_n(&g_stop, 1, __ATOMIC_SEQ_CST);
  __atomic_fetch_add(&g_park, 1, __ATOMIC_SEQ_CST);
  __atomic_fetch_add(&g_job, 1u << JOB_GEN_SHIFT, __ATOMIC_SEQ_CST);
  __builtin_wasm_memory_atomic_notify((int *)&g_park, (unsigned)-1);
  __builtin_wasm_memory_atomic_notify((int *)&g_job, (unsigned)-1);
}

/* Clears the stop flag (before new workers are started after a stop). */
EXPORT(sf_wasm_pool_restart) void sf_wasm_pool_restart(void) { __atomic_store_n(&g_stop, 0, __ATOMIC_SEQ_CST); }

EXPORT(sf_wasm_pool_threads) int32_t sf_wasm_pool_threads(void) { return (int32_t)ld(&g_nth); }

/* How many times a worker has joined a job since the module started (wraps at 2^32). */
EXPORT(sf_wasm_pool_joined) uint32_t sf_wasm_pool_joined(void) { return ld(&g_joined); }

void sf_pool_run(sf_task_fn fn, void *ctx) {
  const uint32_t nth = ld(&g_nth);
  if (nth <= 1) {
    fn(ctx, 0, 1);
    return;
  }
  g_fn = fn;
  g_ctx = ctx;
  const uint32_t gen = (ld(&g_job) >> JOB_GEN_SHIFT) + 1;
  __atomic_store_n(&g_job, gen << JOB_GEN_SHIFT, __ATOMIC_SEQ_CST); /* open, active 0 */
  if (ld(&g_waiting)) __builtin_wasm_memory_atomic_notify((int *)&g_job, nth - 1);
  fn(ctx, 0, (int)nth);
  __atomic_fetch_or(&g_job, JOB_CLOSED, __ATOMIC_SEQ_CST);
  const uint32_t spin = ld(&g_spin);
  for (uint32_t i = 0;; i++) {
    const uint32_t done = ld(&g_done);
    if (!(ld(&g_job) & JOB_ACTIVE)) break;
    if (i >= spin && ld(&g_main_wait)) __builtin_wasm_memory_atomic_wait32((int *)&g_done, (int)done, 1000000); /* ≤ 1 ms, then look again */
  }
}

/* A worker's life: join jobs until sf_wasm_pool_stop(). `id` is 0-based (ith = id + 1). */
EXPORT(sf_worker_main) void sf_worker_main(int32_t id) {
  uint32_t seen = ld(&g_job) >> JOB_GEN_SHIFT;
  uint32_t spins = 0;
  while (!ld(&g_stop)) {
    if ((uint32_t)id + 1 >= ld(&g_nth)) { /* not needed now: park until the thread count changes */
      const uint32_t park = ld(&g_park);
      if ((uint32_t)id + 1 >= ld(&g_nth) && !ld(&g_stop)) __builtin_wasm_memory_atomic_wait32((int *)&g_park, (int)park, -1);
      seen = ld(&g_job) >> JOB_GEN_SHIFT;
      continue;
    }
    uint32_t j = ld(&g_job);
    if ((j >> JOB_GEN_SHIFT) != seen) {
      seen = j >> JOB_GEN_SHIFT;
      while (!(j & JOB_CLOSED) && (j >> JOB_GEN_SHIFT) == seen && (j & JOB_ACTIVE) < JOB_ACTIVE) {
        if (__atomic_compare_exchange_n(&g_job, &j, j + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
          __atomic_fetch_add(&g_joined, 1, __ATOMIC_RELAXED);
          g_fn(g_ctx, id + 1, (int)ld(&g_nth));
          const uint32_t before = __atomic_fetch_sub(&g_job, 1, __ATOMIC_SEQ_CST);
          if ((before & JOB_CLOSED) && (before & JOB_ACTIVE) == 1) { /* last one out of a closed job: wake the caller */
            __atomic_fetch_add(&g_done, 1, __ATOMIC_SEQ_CST);
            __builtin_wasm_memory_atomic_notify((int *)&g_done, 1);
          }
          break;
        }
      }
      spins = 0;
      continue;
    }
    if (++spins < ld(&g_spin)) continue;
    __atomic_fetch_add(&g_waiting, 1, __ATOMIC_SEQ_CST);
    if (!ld(&g_stop)) __builtin_wasm_memory_atomic_wait32((int *)&g_job, (int)j, -1);
    __atomic_fetch_sub(&g_waiting, 1, __ATOMIC_SEQ_CST);
    spins = 0;
  }
}
