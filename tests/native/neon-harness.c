/*
 * Op harness for the NEON path: every vec_dot and vec_dot_n (1..4 activation rows) kernel of the
 * NEON tables (ARMv8.0 and, where the CPU has it, +dotprod) against the scalar reference
 * (native/sf_dot_scalar.c), bit for bit, plus
 * whole matmuls through the addon's driver (native/sf_matmul.c) on path NEON vs path scalar.
 *
 * Built statically for aarch64 and run under qemu-aarch64 by scripts/test-neon.sh (this machine is
 * x86-64); tests/native/neon.test.ts runs that script. Standalone C, no Node.
 *
 * Inputs per weight type and row length n (several block counts, K-quants at n = 256·k, F32/F16/
 * BF16 with tails not a multiple of 4):
 *   - "ref":  weights from the type's reference quantizer (sf_quant.c, ggml *_ref) of random floats,
 *             activations from the activation quantizer (Q8_0/Q8_1/Q8_K as ggml-cpu does it);
 *   - "raw":  random bytes for every quant (full ranges, incl. -128 activations and 0xFF nibbles),
 *             finite random fp16/float scales, random bsums — the integer parts at their extremes;
 *             for F32/F16/BF16, large cancelling pairs among small values, so the sequential
 *             double sum rounds and its order shows in the float result;
 *   - "biased": as "ref" from rows of one sign near one magnitude, so the quants sit at the ends of
 *             their ranges and the block sums are large (then sumi * d_w rounds, which exposes a
 *             regrouped scale product such as sumi * (d_w * d_a) for sumi * d_w * d_a).
 * A result counts as equal only when its 4 bytes equal the scalar result's (memcmp), so -0.0 vs
 * +0.0 or a 1-ulp difference fails.
 *
 * Usage: neon-harness [--expect-dotprod=0|1]   (checks sf_neon_cpu_dotprod against the expectation)
 * Prints one line per type and a summary; exit status 0 only when every comparison matched.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sf_common.h"
#include "sf_dot_neon.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1DULL;
}
/* Uniform in [-1, 1) times a magnitude 2^e, e in [-6, 6] chosen per call site. */
static float rndf(void) { return (float)((double)(rnd() >> 11) / 9007199254740992.0 * 2.0 - 1.0); }

/* A finite fp16 scale in ±[2^-10, 2^2) (random sign), as quantizers produce. */
static uint16_t rnd_scale16(void) {
  const float mag = (float)(1 + (rnd() % 1000)) / 1000.0f * (float)(1 << (rnd() % 12)) / 1024.0f;
  return sf_fp32_to_fp16(rnd() & 1 ? -mag : mag);
}

static void fill_bytes(uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)rnd();
}

static int g_biased; /* mode 2: rows of one sign near one magnitude */
static int g_wide;   /* mode 1 for F32/BF16 (2) and F16 (1): cancelling large pairs, see fill_floats */
static int g_wide_act; /* filling an activation row (1) or a weight row (0) */

static void fill_floats(float *x, int64_t n) {
  const float mag = (float)(1 << (rnd() % 8)) / 16.0f;
  if (g_wide) {
    /* Cancelling pairs: at i % 8 == 1 a large value, at i % 8 == 6 its negation (weights), with
     * activation 2^e there (e = 26, F16: 15), so the pair's products are ±P with P ≈ 2^52 (F16: 2^31),
     * whose double ulp is ≈ the small products elsewhere. Those get rounded to the big grid while a
     * pair is open and the pair then cancels exactly: the float result keeps the rounding, so any
     * change in the order of the sequential double sum shows. */
    const int f16 = g_wide == 1, e = f16 ? 15 : 26, act = g_wide_act;
    for (int64_t i = 0; i < n; i++) {
      if (i % 8 == 1 && i + 5 < n) x[i] = act ? ldexpf(1.0f, e) : ldexpf(1.0f + 0.9f * (float)(rnd() % 1024) / 1024.0f, e);
      else if (i % 8 == 6 && i >= 5) x[i] = act ? ldexpf(1.0f, e) : -x[i - 5];
      else x[i] = ldexpf(rndf(), (f16 ? -10 : 0) - (int)(rnd() % 8));
    }
    return;
  }
  if (g_biased) {
    const float s = rnd() & 1 ? -mag : mag;
    for (int64_t i = 0; i < n; i++) x[i] = s * (1.0f + 0.05f * rndf());
    return;
  }
  for (int64_t i = 0; i < n; i++) x[i] = rndf() * mag;
  if (n > 3) x[rnd() % n] = 0.0f; /* an exact zero and an outlier */
  if (n > 3) x[rnd() % n] *= 30.0f;
}

/* Random bytes with the scale fields of each block replaced by finite values. */
static void raw_blocks(int type, uint8_t *p, int64_t n) {
  const sf_type_traits *t = sf_traits(type);
  const int64_t nb = n / t->blck;
  fill_bytes(p, (size_t)nb * (size_t)t->type_size);
  for (int64_t b = 0; b < nb; b++) {
    uint8_t *blk = p + b * t->type_size;
    uint16_t h;
    switch (type) {
      case SF_Q4_0: case SF_Q5_0: case SF_Q8_0:
        h = rnd_scale16(); memcpy(blk, &h, 2); break;
      case SF_Q4_1: case SF_Q5_1: case SF_Q8_1: case SF_Q4_K: case SF_Q5_K:
        h = rnd_scale16(); memcpy(blk, &h, 2);
        h = rnd_scale16(); memcpy(blk + 2, &h, 2); break;
      case SF_Q6_K:
        h = rnd_scale16(); memcpy(blk + 208, &h, 2); break;
      case SF_Q8_K: {
        const float d = rndf() * 0.01f;
        memcpy(blk, &d, 4);
        break;
      }
      default: break;
    }
  }
}

/* Weights (mode 0: reference quantizer; 1: raw) of `rows` rows of n elements. */
static void make_weights(int type, int mode, uint8_t *w, int rows, int64_t n, float *tmp) {
  const sf_type_traits *t = sf_traits(type);
  const size_t rs = sf_row_size(t, n);
  for (int r = 0; r < rows; r++) {
    if (mode == 1 && t->blck > 1) raw_blocks(type, w + r * rs, n);
    else {
      g_wide = mode == 1 ? (type == SF_F16 ? 1 : 2) : 0;
      fill_floats(tmp, n);
      g_wide = 0;
      t->quantize_ref(tmp, w + r * rs, n);
    }
  }
}

/* Activation rows in the weight type's act type (mode 0: activation quantizer; 1: raw). */
static void make_acts(int act, int mode, uint8_t *a, int rows, int64_t n, float *tmp) {
  const sf_type_traits *t = sf_traits(act);
  const size_t rs = sf_row_size(t, n);
  for (int r = 0; r < rows; r++) {
    if (mode == 1 && t->blck > 1) raw_blocks(act, a + r * rs, n);
    else {
      g_wide = mode == 1 ? (act == SF_F16 ? 1 : 2) : 0;
      g_wide_act = 1;
      fill_floats(tmp, n);
      g_wide = g_wide_act = 0;
      t->quantize_act(tmp, a + r * rs, n);
    }
  }
}

typedef struct { const char *name; sf_kernel_table k; } table_t;

static long n_checks, n_fail;

static void report_fail(const char *what, const char *tname, int type, int64_t n, int mode, float want, float got) {
  uint32_t a, b;
  memcpy(&a, &want, 4);
  memcpy(&b, &got, 4);
  if (n_fail < 20)
    printf("MISMATCH %s %s %s n=%lld mode=%s: scalar %a (0x%08x) neon %a (0x%08x)\n", what, tname, sf_traits(type)->name,
           (long long)n, mode == 1 ? "raw" : mode == 2 ? "biased" : "ref", want, a, got, b);
  n_fail++;
}

/* vec_dot of every (weight row, activation row) pair on each table vs the scalar table. */
static void check_dots(const sf_kernel_table *scalar, const table_t *tabs, int ntab, int type, const int64_t *ns, int nn) {
  const sf_type_traits *tw = sf_traits(type);
  const sf_type_traits *ta = sf_traits(tw->act_type);
  const int WR = 7, AR = 5; /* rows: not multiples of 4 */
  long before_c = n_checks, before_f = n_fail;
  for (int in = 0; in < nn; in++) {
    const int64_t n = ns[in];
    const size_t ws = sf_row_size(tw, n), as = sf_row_size(ta, n);
    uint8_t *w = malloc(ws * WR), *a = malloc(as * AR);
    float *tmp = malloc((size_t)n * sizeof(float));
    for (int mode = 0; mode < 3; mode++) {
      g_biased = mode == 2;
      make_weights(type, mode, w, WR, n, tmp);
      make_acts(tw->act_type, mode, a, AR, n, tmp);
      for (int r = 0; r < WR; r++) {
        float want[5];
        for (int c = 0; c < AR; c++) {
          want[c] = scalar->vec_dot[type]((int)n, w + r * ws, a + c * as);
          for (int t = 0; t < ntab; t++) {
            const float got = tabs[t].k.vec_dot[type]((int)n, w + r * ws, a + c * as);
            n_checks++;
            if (memcmp(&want[c], &got, 4) != 0) report_fail("vec_dot", tabs[t].name, type, n, mode, want[c], got);
          }
        }
        /* multi-row variant: nr = 1..4 rows from row c0, each equal to the one-row scalar result */
        for (int t = 0; t < ntab; t++) {
          if (!tabs[t].k.vec_dot_n[type]) continue;
          for (int nr = 1; nr <= 4; nr++)
            for (int c0 = 0; c0 + nr <= AR; c0++) {
              float got[4];
              tabs[t].k.vec_dot_n[type]((int)n, w + r * ws, a + c0 * as, as, nr, got);
              for (int q = 0; q < nr; q++) {
                n_checks++;
                if (memcmp(&want[c0 + q], &got[q], 4) != 0) report_fail("vec_dot_n", tabs[t].name, type, n, mode, want[c0 + q], got[q]);
              }
            }
        }
      }
    }
    free(w);
    free(a);
    free(tmp);
  }
  printf("vec_dot %-5s %6ld comparisons, %ld mismatches\n", tw->name, n_checks - before_c, n_fail - before_f);
}

/* sf_matmul on path NEON vs path scalar: n_out rows not a multiple of 4, several token counts,
 * 1 and 2 threads. */
static void check_matmul(int type, int64_t n_in) {
  const sf_type_traits *tw = sf_traits(type);
  const int64_t n_out = 13, toks[] = {1, 3, 6, 9}; /* 4-token groups go through vec_dot_n */
  const size_t ws = sf_row_size(tw, n_in);
  uint8_t *w = malloc(ws * n_out);
  float *tmp = malloc((size_t)n_in * sizeof(float));
  make_weights(type, 0, w, (int)n_out, n_in, tmp);
  long before_c = n_checks, before_f = n_fail;
  for (int it = 0; it < 4; it++) {
    const int64_t nt = toks[it];
    float *x = malloc((size_t)(nt * n_in) * sizeof(float));
    float *y0 = malloc((size_t)(nt * n_out) * sizeof(float)), *y1 = malloc((size_t)(nt * n_out) * sizeof(float));
    for (int64_t t = 0; t < nt; t++) fill_floats(x + t * n_in, n_in);
    for (int threads = 1; threads <= 2; threads++) {
      sf_pool_set_threads(threads);
      sf_set_path(SF_PATH_SCALAR);
      if (sf_matmul(type, w, n_out, n_in, x, nt, y0) != 0) { printf("matmul failed\n"); n_fail++; }
      sf_set_path(SF_PATH_NEON);
      if (sf_matmul(type, w, n_out, n_in, x, nt, y1) != 0) { printf("matmul failed\n"); n_fail++; }
      for (int64_t i = 0; i < nt * n_out; i++) {
        n_checks++;
        if (memcmp(&y0[i], &y1[i], 4) != 0) report_fail("matmul", "neon-path", type, n_in, 0, y0[i], y1[i]);
      }
    }
    free(x); free(y0); free(y1);
  }
  free(w);
  free(tmp);
  printf("matmul  %-5s %6ld outputs,     %ld mismatches\n", tw->name, n_checks - before_c, n_fail - before_f);
}

int main(int argc, char **argv) {
  int expect_dp = -1;
  for (int i = 1; i < argc; i++)
    if (strncmp(argv[i], "--expect-dotprod=", 17) == 0) expect_dp = atoi(argv[i] + 17);

  sf_kernel_table scalar;
  sf_fill_scalar(&scalar);
  table_t tabs[2];
  int ntab = 0;
  tabs[ntab].name = "neon";
  tabs[ntab].k = scalar;
  if (!sf_fill_neon_plain(&tabs[ntab].k)) {
    printf("FAIL: NEON kernels not compiled (not an aarch64 build?)\n");
    return 1;
  }
#if defined(__ARM_FEATURE_DOTPROD)
  tabs[ntab].name = "neon(sdot)"; /* whole build targets dotprod: the plain file uses SDOT too */
#endif
  ntab++;
  const int cpu_dp = sf_neon_cpu_dotprod();
  tabs[ntab].name = "neon-dotprod";
  tabs[ntab].k = scalar;
  const int dp_compiled = sf_fill_neon_dotprod(&tabs[ntab].k);
  if (dp_compiled && cpu_dp) ntab++;
  printf("cpu dotprod: %s; dotprod kernels: %s; tables checked: %d\n", cpu_dp ? "yes" : "no",
         dp_compiled ? (cpu_dp ? "compiled, tested" : "compiled, not run (CPU lacks SDOT)") : "not compiled", ntab);
  if (expect_dp >= 0 && expect_dp != cpu_dp) {
    printf("FAIL: expected cpu dotprod %d, detected %d\n", expect_dp, cpu_dp);
    n_fail++;
  }
  if (!dp_compiled) {
    printf("FAIL: sf_dot_neon_dotprod.c was compiled without +dotprod\n");
    n_fail++;
  }

  /* runtime selection: auto must pick NEON, and the NEON table must carry the dotprod kernels
   * exactly when the CPU has them */
  sf_set_path(-1);
  const int auto_path = sf_get_path();
  printf("auto path: %s\n", auto_path == SF_PATH_NEON ? "neon" : "other");
  if (auto_path != SF_PATH_NEON) n_fail++;
  const sf_vec_dot_fn sel = sf_kernels()->vec_dot[SF_Q8_0];
  const sf_vec_dot_fn want_sel = (dp_compiled && cpu_dp ? tabs[1] : tabs[0]).k.vec_dot[SF_Q8_0];
  if (sel != want_sel) {
    printf("FAIL: the NEON path's Q8_0 kernel is not the %s one\n", dp_compiled && cpu_dp ? "dotprod" : "plain");
    n_fail++;
  }

  static const int64_t n_blk[] = {32, 64, 96, 160, 1056, 4096};
  static const int64_t n_k[] = {256, 512, 768, 2816};
  static const int64_t n_f[] = {1, 3, 4, 5, 17, 64, 255, 1027};
  static const int blk_types[] = {SF_Q4_0, SF_Q4_1, SF_Q5_0, SF_Q5_1, SF_Q8_0};
  static const int k_types[] = {SF_Q4_K, SF_Q5_K, SF_Q6_K};
  static const int f_types[] = {SF_F32, SF_F16, SF_BF16};
  for (int i = 0; i < 5; i++) check_dots(&scalar, tabs, ntab, blk_types[i], n_blk, 6);
  for (int i = 0; i < 3; i++) check_dots(&scalar, tabs, ntab, k_types[i], n_k, 4);
  for (int i = 0; i < 3; i++) check_dots(&scalar, tabs, ntab, f_types[i], n_f, 8);

  /* every type the scalar table has must have a NEON kernel */
  for (int t = 0; t < SF_TYPE_COUNT; t++)
    if (scalar.vec_dot[t] && strcmp(sf_kernels()->impl[t], "neon") != 0) {
      printf("FAIL: type %s has no NEON kernel\n", sf_traits(t)->name);
      n_fail++;
    }

  for (int i = 0; i < 5; i++) check_matmul(blk_types[i], 1024);
  for (int i = 0; i < 3; i++) check_matmul(k_types[i], 1024);
  for (int i = 0; i < 3; i++) check_matmul(f_types[i], 333);

  printf("neon-harness: %ld comparisons, %ld mismatches: %s\n", n_checks, n_fail, n_fail ? "FAIL" : "OK");
  return n_fail ? 1 : 0;
}
