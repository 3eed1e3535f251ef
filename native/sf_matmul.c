/*
 * Run-time path selection, the persistent thread pool and the matmul driver.
 *
 * matmul follows ggml-cpu.c ggml_compute_forward_mul_mat: each activation row is converted once
 * to the weight type's vec_dot_type (type_traits_cpu[type].vec_dot_type: Q8_0 for Q4_0/Q5_0/Q8_0,
 * Q8_1 for Q4_1/Q5_1, Q8_K for the K-quants, F16/BF16/F32 for the plain types), then every weight row
 * is dotted with every converted activation row. Work is split into (weight-row block × token
 * block) chunks taken from an atomic counter, so one rule serves decode (1 token: the split is
 * over weight rows) and prefill (many tokens: blocks over both).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "sf_common.h"
#include "sf_gemm.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SF_X86 1
static inline void cpu_relax(void) { _mm_pause(); }
#else
#define SF_X86 0
static inline void cpu_relax(void) {}
#endif

/* ------------------------------------------------------------------ paths */

static sf_kernel_table g_tables[SF_PATH_COUNT];
static int g_compiled[SF_PATH_COUNT];
static _Atomic int g_path = -2; /* -2: not initialised */
static pthread_once_t g_tables_once = PTHREAD_ONCE_INIT;

static void init_tables(void) {
  sf_fill_scalar(&g_tables[SF_PATH_SCALAR]);
  g_compiled[SF_PATH_SCALAR] = 1;
  g_tables[SF_PATH_AVX2] = g_tables[SF_PATH_SCALAR];
  g_compiled[SF_PATH_AVX2] = sf_fill_avx2(&g_tables[SF_PATH_AVX2]);
  g_tables[SF_PATH_AVX512] = g_tables[SF_PATH_AVX2];
  g_compiled[SF_PATH_AVX512] = g_compiled[SF_PATH_AVX2] && sf_fill_avx512(&g_tables[SF_PATH_AVX512]);
  g_tables[SF_PATH_NEON] = g_tables[SF_PATH_SCALAR];
  g_compiled[SF_PATH_NEON] = sf_fill_neon(&g_tables[SF_PATH_NEON]); /* 1 only on AArch64 */
}

/* Whether `path` is compiled in and the CPU (and OS) supports its instructions. */
int sf_path_supported(int path) {
  pthread_once(&g_tables_once, init_tables);
  if (path < 0 || path >= SF_PATH_COUNT || !g_compiled[path]) return 0;
  if (path == SF_PATH_SCALAR) return 1;
  if (path == SF_PATH_NEON) return 1; /* compiled only on AArch64, where AdvSIMD is mandatory */
#if SF_X86
  __builtin_cpu_init();
  const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  if (path == SF_PATH_AVX2) return avx2;
  return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
         __builtin_cpu_supports("avx512bf16");
#else
  return 0;
#endif
}

/* Select a path (-1 = best supported). Returns 0, or -1 when the path is not supported. */
int sf_set_path(int path) {
  if (path < 0) {
    int best = SF_PATH_SCALAR;
    for (int p = SF_PATH_COUNT - 1; p > SF_PATH_SCALAR; p--)
      if (sf_path_supported(p)) { best = p; break; }
    atomic_store(&g_path, best);
    return 0;
  }
  if (!sf_path_supported(path)) return -1;
  atomic_store(&g_path, path);
  return 0;
}

int sf_get_path(void) {
  if (atomic_load(&g_path) == -2) sf_set_path(-1);
  return atomic_load(&g_path);
}

const sf_kernel_table *sf_kernels(void) { return &g_tables[sf_get_path()]; }

/* ------------------------------------------------------------------ thread pool
 *
 * Work-sharing pool: a job is posted to all workers, but a worker only *joins* it if it wakes
 * while the job is still open; the caller works too, and once the job's work is exhausted it
 * closes the job and waits only for the workers that joined (they are running, so that is short).
 * A worker that is descheduled (busy machine) therefore never delays a job: the caller simply
 * does all the work. Jobs must share work through atomic counters, not by thread index.
 *
 * g_job packs [gen:31 | open:1 | active:32]; a worker joins with a CAS that requires the job's
 * generation to match the one it woke for and the open bit to be set.
 */

typedef struct { int ith; unsigned start_gen; pthread_t tid; } worker_t;

static pthread_mutex_t g_run_mu = PTHREAD_MUTEX_INITIALIZER; /* one job (or resize) at a time */
static pthread_mutex_t g_wake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_wake_cv = PTHREAD_COND_INITIALIZER;
/* g_gen (polled by spinning workers) and g_job (CAS'd by joiners) each get a cache line */
static _Alignas(64) _Atomic unsigned g_gen;
static _Alignas(64) _Atomic uint64_t g_job;
static _Alignas(64) _Atomic int g_sleepers;
static _Atomic int g_stop;
static sf_task_fn g_fn;
static void *g_ctx;
static int g_nth = 0; /* 0: not created yet */
static worker_t *g_workers;

#define JOB_OPEN ((uint64_t)1 << 32)
#define JOB_GEN(s) ((unsigned)((s) >> 33))
#define JOB_ACTIVE(s) ((uint32_t)(s))
#define SF_SPIN_NS 200000L /* a worker spins this long for the next job before sleeping */

static long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void *worker_main(void *arg) {
  worker_t *self = arg;
  unsigned seen = self->start_gen;
  for (;;) {
    unsigned g = atomic_load(&g_gen);
    if (g == seen) {
      const long t0 = now_ns();
      for (int i = 1; (g = atomic_load(&g_gen)) == seen; i++) {
        cpu_relax();
        if ((i & 63) == 0 && now_ns() - t0 > SF_SPIN_NS) break;
      }
    }
    if (g == seen) {
      pthread_mutex_lock(&g_wake_mu);
      atomic_fetch_add(&g_sleepers, 1);
      while ((g = atomic_load(&g_gen)) == seen) pthread_cond_wait(&g_wake_cv, &g_wake_mu);
      atomic_fetch_sub(&g_sleepers, 1);
      pthread_mutex_unlock(&g_wake_mu);
    }
    seen = g;
    if (atomic_load(&g_stop)) break;
    uint64_t s = atomic_load(&g_job);
    int joined = 0;
    while (JOB_GEN(s) == (g & 0x7fffffffu) && (s & JOB_OPEN)) {
      if (atomic_compare_exchange_weak(&g_job, &s, s + 1)) { joined = 1; break; }
    }
    if (!joined) continue; /* woke too late: the caller already finished this job */
    g_fn(g_ctx, self->ith, g_nth);
    atomic_fetch_sub(&g_job, 1);
  }
  return NULL;
}

/* Wake every worker for a new generation (job or stop). */
static unsigned bump_generation(void) {
  const unsigned g = atomic_fetch_add(&g_gen, 1) + 1;
  if (atomic_load(&g_sleepers) > 0) {
    pthread_mutex_lock(&g_wake_mu);
    pthread_cond_broadcast(&g_wake_cv);
    pthread_mutex_unlock(&g_wake_mu);
  }
  return g;
}

static void post_and_wait(sf_task_fn fn, void *ctx) {
  g_fn = fn;
  g_ctx = ctx;
  const unsigned next = atomic_load(&g_gen) + 1;
  atomic_store(&g_job, ((uint64_t)(next & 0x7fffffffu) << 33) | JOB_OPEN);
  bump_generation();
  fn(ctx, 0, g_nth);
  atomic_fetch_and(&g_job, ~JOB_OPEN); /* no late joiners */
  for (int i = 1; JOB_ACTIVE(atomic_load(&g_job)) != 0; i++) {
    cpu_relax();
    if ((i & 1023) == 0) sched_yield();
  }
}

/* Stop and join all workers (caller holds g_run_mu). */
static void pool_destroy_locked(void) {
  if (g_nth > 1) {
    atomic_store(&g_stop, 1);
    bump_generation();
    for (int i = 0; i < g_nth - 1; i++) pthread_join(g_workers[i].tid, NULL);
    atomic_store(&g_stop, 0);
  }
  free(g_workers);
  g_workers = NULL;
  g_nth = 0;
}

/* Create n-1 workers (caller holds g_run_mu). Falls back to fewer threads if creation fails. */
static void pool_create_locked(int n) {
  g_workers = n > 1 ? calloc((size_t)(n - 1), sizeof(worker_t)) : NULL;
  if (!g_workers) n = 1;
  int made = 0;
  for (int i = 0; i < n - 1; i++) {
    g_workers[i].ith = i + 1;
    g_workers[i].start_gen = atomic_load(&g_gen);
    if (pthread_create(&g_workers[i].tid, NULL, worker_main, &g_workers[i]) != 0) break;
    made++;
  }
  g_nth = made + 1;
}

static int default_threads(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) n = 1;
  if (n > 32) n = 32;
  return (int)n;
}

int sf_pool_set_threads(int n) {
  if (n < 1) n = 1;
  if (n > 256) n = 256;
  pthread_mutex_lock(&g_run_mu);
  if (n != g_nth) {
    pool_destroy_locked();
    pool_create_locked(n);
  }
  const int got = g_nth;
  pthread_mutex_unlock(&g_run_mu);
  return got;
}

int sf_pool_get_threads(void) {
  pthread_mutex_lock(&g_run_mu);
  if (g_nth == 0) pool_create_locked(default_threads());
  const int n = g_nth;
  pthread_mutex_unlock(&g_run_mu);
  return n;
}

/* Run fn on the caller and on every worker that wakes in time. Caller holds g_run_mu. */
static void pool_run_locked(sf_task_fn fn, void *ctx) {
  if (g_nth == 0) pool_create_locked(default_threads());
  if (g_nth == 1) {
    fn(ctx, 0, 1);
    return;
  }
  post_and_wait(fn, ctx);
}

void sf_pool_run(sf_task_fn fn, void *ctx) {
  pthread_mutex_lock(&g_run_mu);
  pool_run_locked(fn, ctx);
  pthread_mutex_unlock(&g_run_mu);
}

/* ------------------------------------------------------------------ matmul */

/* One thread's contiguous range of dot chunks: [next, end) claimed front to back by its owner,
 * and by the others once their own range is exhausted (a late or descheduled worker's share is
 * done by the rest). Each range on its own cache line: owners claim without contention, and each
 * thread streams a contiguous stretch of weight rows, which the hardware prefetchers follow
 * (interleaved chunks across threads halved the decode throughput on 2 cores). */
typedef struct {
  _Alignas(64) _Atomic int64_t next;
  int64_t end;
} mm_range;
#define MM_MAX_RANGES 64

/* One weight matrix of a (possibly fused) matmul: its kernels, rows and output. */
typedef struct {
  sf_vec_dot_fn dot;
  sf_vec_dot_n_fn dotn;
  sf_vec_dot_fn dot_g;     /* tokens < gemm_rows use dot_g/dotn_g (repacked Q4_K gemm); NULL: none */
  sf_vec_dot_n_fn dotn_g;
  sf_gemm_q8_0_fn gemm;    /* tile kernel over packed 4-token groups (sf_gemm.h); NULL: none */
  sf_gemm8_fn gemm8;       /* the same over two groups at once, or NULL */
  const uint8_t *w;
  float *y;
  int64_t n_out, rb, n_rb;
  int64_t chunk0; /* first chunk index of this part */
} mm_part;

#define MM_MAX_PARTS 3

typedef struct {
  mm_part part[MM_MAX_PARTS]; /* weights sharing the activation (fused q/k/v or gate/up) */
  int n_parts;
  int64_t gemm_rows;
  sf_from_float_fn qact;
  size_t w_row, a_row;
  int64_t n_in, n_tok;
  const float *x;
  const uint8_t *act;
  int8_t *pq;  /* packed 4-token groups for the tile kernels (see sf_gemm.h), or NULL */
  float *pd;
  int64_t nb;  /* blocks per activation row */
  size_t pq_block; /* packed bytes per block of a 4-token group */
  size_t pd_block; /* packed floats per block of a 4-token group */
  void (*pack)(const uint8_t *act, size_t a_row, int64_t nb, int8_t *qs, float *d);
  int64_t tb, n_tb;
  /* the shared counters live on their own cache lines, so claiming a chunk does not evict the
   * read-only fields above from the other threads' caches */
  int n_rng; /* dot chunks are split into n_rng contiguous ranges, one per thread */
  _Alignas(64) _Atomic int64_t next_q; /* next activation row to convert */
  mm_range rng[MM_MAX_RANGES];
} mm_ctx;

static uint8_t *g_scratch;
static size_t g_scratch_size;

/* Phase 1: convert activation rows, 4 at a time from the shared counter. */
static void mm_quantize_task(void *vctx, int ith, int nth) {
  mm_ctx *c = vctx;
  (void)ith; (void)nth;
  for (;;) {
    const int64_t t0 = atomic_fetch_add_explicit(&c->next_q, 4, memory_order_relaxed);
    if (t0 >= c->n_tok) break;
    const int64_t t1 = t0 + 4 < c->n_tok ? t0 + 4 : c->n_tok;
    for (int64_t t = t0; t < t1; t++) c->qact(c->x + t * c->n_in, (uint8_t *)c->act + t * c->a_row, c->n_in);
    if (c->pq && t1 - t0 == 4) {
      const int64_t g = t0 / 4;
      c->pack(c->act + (size_t)t0 * c->a_row, c->a_row, c->nb, c->pq + (size_t)g * c->nb * c->pq_block, c->pd + (size_t)g * c->nb * c->pd_block);
    }
  }
}

/* Phase 2: dot chunks of (rb weight rows × tb tokens) until none are left, own range first. */
static void mm_dot_chunk(const mm_ctx *c, int64_t chunk);

static void mm_dot_task(void *vctx, int ith, int nth) {
  mm_ctx *c = vctx;
  (void)nth;
  const int own = ith % c->n_rng;
  for (int k = 0; k < c->n_rng; k++) {
    mm_range *rg = &c->rng[(own + k) % c->n_rng];
    for (;;) {
      const int64_t chunk = atomic_fetch_add_explicit(&rg->next, 1, memory_order_relaxed);
      if (chunk >= rg->end) break;
      mm_dot_chunk(c, chunk);
    }
  }
}

/* One chunk of (rb weight rows × tb tokens) of one part. */
static void mm_dot_chunk(const mm_ctx *c, int64_t chunk) {
  int p = 0;
  while (p + 1 < c->n_parts && chunk >= c->part[p + 1].chunk0) p++;
  const mm_part *P = &c->part[p];
  chunk -= P->chunk0;
  const int64_t n_out = P->n_out;
  const int64_t r0 = (chunk / c->n_tb) * P->rb;
  int64_t t0 = (chunk % c->n_tb) * c->tb;
  const int64_t r1 = r0 + P->rb < n_out ? r0 + P->rb : n_out;
  int64_t t1 = t0 + c->tb < c->n_tok ? t0 + c->tb : c->n_tok;
  if (P->gemm) {
    /* whole 4-token groups (t0 is a multiple of 4) through the tile kernel, 4 rows at a time */
    const int64_t tg = t0 + ((t1 - t0) & ~(int64_t)3);
    int64_t t = t0;
    if (P->gemm8)
      for (; t + 8 <= tg; t += 8) {
        const size_t ga = (size_t)(t / 4), gb = ga + 1;
        for (int64_t r = r0; r < r1; r += 4) {
          const int R = r1 - r < 4 ? (int)(r1 - r) : 4;
          float oa[16], ob[16];
          P->gemm8(R, c->nb, P->w + (size_t)r * c->w_row, c->w_row, c->pq + ga * c->nb * c->pq_block, c->pd + ga * c->nb * c->pd_block,
                   c->pq + gb * c->nb * c->pq_block, c->pd + gb * c->nb * c->pd_block, oa, ob);
          for (int i = 0; i < R; i++)
            for (int q = 0; q < 4; q++) {
              P->y[(t + q) * n_out + r + i] = oa[i * 4 + q];
              P->y[(t + 4 + q) * n_out + r + i] = ob[i * 4 + q];
            }
        }
      }
    for (; t < tg; t += 4) {
      const int8_t *yq = c->pq + (size_t)(t / 4) * c->nb * c->pq_block;
      const float *yd = c->pd + (size_t)(t / 4) * c->nb * c->pd_block;
      for (int64_t r = r0; r < r1; r += 4) {
        const int R = r1 - r < 4 ? (int)(r1 - r) : 4;
        float o[16];
        P->gemm(R, c->nb, P->w + (size_t)r * c->w_row, c->w_row, yq, yd, o);
        for (int i = 0; i < R; i++)
          for (int q = 0; q < 4; q++) P->y[(t + q) * n_out + r + i] = o[i * 4 + q];
      }
    }
    if (tg == t1) return;
    t0 = tg;
  }
  for (int64_t r = r0; r < r1; r++) {
    const uint8_t *wr = P->w + (size_t)r * c->w_row;
    int64_t t = t0;
    if (P->dotn) {
      float o[4];
      for (; t + 4 <= t1; t += 4) {
        /* 4-row groups start at multiples of 4, so a group is all below gemm_rows or all above */
        if (P->dotn_g && t < c->gemm_rows) P->dotn_g((int)c->n_in, wr, c->act + (size_t)t * c->a_row, c->a_row, 4, o);
        else P->dotn((int)c->n_in, wr, c->act + (size_t)t * c->a_row, c->a_row, 4, o);
        for (int q = 0; q < 4; q++) P->y[(t + q) * n_out + r] = o[q];
      }
    }
    for (; t < t1; t++)
      P->y[t * n_out + r] = (P->dot_g && t < c->gemm_rows ? P->dot_g : P->dot)((int)c->n_in, wr, c->act + (size_t)t * c->a_row);
  }
}

int sf_matmul_multi(int type, int n_parts, const void *const *w, const int64_t *n_out, int64_t n_in, const float *x,
                    int64_t n_tok, float *const *y) {
  const sf_type_traits *tw = sf_traits(type);
  const sf_type_traits *ta = sf_traits(tw->act_type);
  const sf_kernel_table *k = sf_kernels();
  if (n_parts < 1 || n_parts > MM_MAX_PARTS) return -1;
  if (n_tok == 0) return 0;
  mm_ctx c = {
    .n_parts = n_parts, .gemm_rows = n_tok - n_tok % 4, .qact = ta->quantize_act, .w_row = sf_row_size(tw, n_in),
    .a_row = sf_row_size(ta, n_in), .n_in = n_in, .n_tok = n_tok, .x = x,
  };
  /* tile kernels: AVX-512 path, at least one whole 4-token group; Q4_K only where ggml repacks it
   * (rows a multiple of 8, see x8 below) since the tile follows the repacked gemm's float order */
  sf_gemm_q8_0_fn gemm = n_tok >= 4 && sf_get_path() == SF_PATH_AVX512 && sf_gemm_q8_0_supported() ? sf_gemm_q8_0_kernel(type) : NULL;
  c.nb = n_in / ta->blck;
  c.pq_block = tw->act_type == SF_Q8_K ? SF_GEMM_Q8K_BLOCK : 128;
  c.pack = tw->act_type == SF_Q8_K ? sf_gemm_pack_q8_K : tw->act_type == SF_Q8_1 ? sf_gemm_pack_q8_1 : sf_gemm_pack_q8_0;
  c.pd_block = tw->act_type == SF_Q8_1 ? 8 : 4;
  int any_gemm = 0;
  for (int p = 0; p < n_parts; p++) {
    const int x8 = type == SF_Q4_K && n_out[p] % 8 == 0 && k->q4_K_x8 != NULL;
    c.part[p] = (mm_part){
      .dot = x8 ? k->q4_K_x8 : k->vec_dot[type], .dotn = x8 ? k->q4_K_x8_n : k->vec_dot_n[type],
      .dot_g = x8 ? k->q4_K_x8_gemm : NULL, .dotn_g = x8 ? k->q4_K_x8_gemm_n : NULL, .gemm = type == SF_Q4_K && !x8 ? NULL : gemm, .gemm8 = gemm ? sf_gemm8_kernel(type) : NULL, .w = w[p], .y = y[p], .n_out = n_out[p],
    };
    any_gemm |= c.part[p].gemm != NULL;
  }
  if (!any_gemm) gemm = NULL;
  pthread_mutex_lock(&g_run_mu);
  if (g_nth == 0) pool_create_locked(default_threads());
  const int nth = g_nth;
  if (tw->act_type == SF_F32) {
    c.act = (const uint8_t *)x; /* F32 weights dot F32 activations directly */
  } else {
    const size_t act_bytes = (c.a_row * (size_t)n_tok + 63) & ~(size_t)63;
    const size_t groups = gemm ? (size_t)(n_tok / 4) : 0;
    const size_t pq_bytes = groups * (size_t)c.nb * c.pq_block, pd_bytes = groups * (size_t)c.nb * c.pd_block * sizeof(float);
    const size_t need = act_bytes + pq_bytes + pd_bytes + 64;
    if (need > g_scratch_size) {
      void *p = NULL;
      if (posix_memalign(&p, 64, need) != 0) {
        pthread_mutex_unlock(&g_run_mu);
        return -1;
      }
      free(g_scratch);
      g_scratch = p;
      g_scratch_size = need;
    }
    c.act = g_scratch;
    if (gemm) {
      c.pq = (int8_t *)(g_scratch + act_bytes);
      c.pd = (float *)(g_scratch + act_bytes + pq_bytes);
    }
    atomic_store(&c.next_q, 0);
    if (nth == 1 || n_tok * n_in < 32768) mm_quantize_task(&c, 0, 1);
    else pool_run_locked(mm_quantize_task, &c);
  }
  /* Chunking: at least ~4 chunks per thread for balance, at most 16 weight rows × 32 tokens. */
  c.tb = n_tok < 32 ? n_tok : 32;
  c.n_tb = (n_tok + c.tb - 1) / c.tb;
  int64_t total = 0;
  for (int p = 0; p < n_parts; p++) {
    mm_part *P = &c.part[p];
    int64_t rb = 16;
    while (rb > 1 && ((P->n_out + rb - 1) / rb) * c.n_tb < 4 * nth) rb /= 2;
    P->rb = rb;
    P->n_rb = (P->n_out + rb - 1) / rb;
    P->chunk0 = total;
    total += P->n_rb * c.n_tb;
  }
  if (total == 0) {
    pthread_mutex_unlock(&g_run_mu);
    return 0;
  }
  c.n_rng = nth < MM_MAX_RANGES ? nth : MM_MAX_RANGES;
  for (int i = 0; i < c.n_rng; i++) {
    atomic_store_explicit(&c.rng[i].next, total * i / c.n_rng, memory_order_relaxed);
    c.rng[i].end = total * (i + 1) / c.n_rng;
  }
  if (nth == 1 || total == 1) mm_dot_task(&c, 0, 1);
  else pool_run_locked(mm_dot_task, &c);
  pthread_mutex_unlock(&g_run_mu);
  return 0;
}

int sf_matmul(int type, const void *w, int64_t n_out, int64_t n_in, const float *x, int64_t n_tok, float *y) {
  if (n_out == 0 || n_tok == 0) return 0;
  return sf_matmul_multi(type, 1, &w, &n_out, n_in, x, n_tok, &y);
}
