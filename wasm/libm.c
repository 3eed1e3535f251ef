/*
 * The few libm functions the kernels call that are not single wasm instructions, for the
 * freestanding wasm32 build. The float functions evaluate in double (errors ~1e-16 relative) and
 * round once to float, so they return the correctly rounded result except in astronomically rare
 * near-midpoint cases -- the same values as glibc's expf/logf/powf/sincosf in practice.
 * fmaf is exact (single rounding), after musl's double-based fmaf.
 */
#include <stdint.h>
#include <math.h>

static inline uint64_t dbits(double d) { union { double d; uint64_t u; } v = {d}; return v.u; }
static inline double bitsd(uint64_t u) { union { uint64_t u; double d; } v = {u}; return v.d; }
static inline double pow2i(int k) { return bitsd((uint64_t)(k + 1023) << 52); } /* -1022 <= k <= 1023 */

/* Exact fused multiply-add: x*y is exact in double; fix the one double-rounding case (musl). */
float fmaf(float x, float y, float z) {
  const double xy = (double)x * y;
  const double r = xy + z;
  uint64_t u = dbits(r);
  const int e = (int)(u >> 52 & 0x7ff);
  if ((u & 0x1fffffff) != 0x10000000 || e == 0x7ff || (r - xy == z && r - z == xy)) return (float)r;
  const int neg = (int)(u >> 63);
  const double err = neg == (z > xy) ? xy - r + z : z - r + xy;
  if (neg == (err < 0)) u++;
  else u--;
  return (float)bitsd(u);
}

float roundf(float x) {
  const float t = __builtin_truncf(x);
  if (__builtin_fabsf(x - t) >= 0.5f) return t + __builtin_copysignf(1.0f, x);
  return t;
}

static const double LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;

/* exp for |x| < 700. */
double exp(double x) {
  if (x != x) return x;
  if (x > 709.0) return __builtin_inf();
  if (x < -745.0) return 0.0;
  const double k = __builtin_rint(x * 1.44269504088896338700e+00);
  const double r = (x - k * LN2_HI) - k * LN2_LO; /* |r| <= 0.35 */
  double p = 1.0 / 6227020800.0;                   /* 1/13! */
  static const double inv[] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0,
                               1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0};
  for (int i = 0; i < 13; i++) p = p * r + inv[i];
  int ki = (int)k;
  if (ki > 1000) return p * pow2i(1000) * pow2i(ki - 1000);
  if (ki < -1000) return p * pow2i(-1000) * pow2i(ki + 1000);
  return p * pow2i(ki);
}

double log(double x) {
  if (x != x || x < 0) return __builtin_nan("");
  if (x == 0) return -__builtin_inf();
  if (__builtin_isinf(x)) return x;
  uint64_t u = dbits(x);
  int e = (int)(u >> 52 & 0x7ff);
  if (e == 0) { x *= 18014398509481984.0; u = dbits(x); e = (int)(u >> 52 & 0x7ff) - 54; } /* subnormal: * 2^54 */
  e -= 1023;
  double m = bitsd((u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL); /* [1, 2) */
  if (m > 1.41421356237309504880) { m *= 0.5; e++; }
  const double f = m - 1.0, s = f / (2.0 + f), s2 = s * s;
  double p = 0.0;
  for (int k = 25; k >= 3; k -= 2) p = p * s2 + 1.0 / k;
  const double lm = 2.0 * s + 2.0 * s * s2 * p;
  return e * LN2_HI + (e * LN2_LO + lm);
}

/* sin/cos of r, |r| <= pi/4 + eps */
static double sin_poly(double r) {
  const double r2 = r * r;
  double p = -1.0 / 1307674368000.0; /* -1/15! */
  static const double c[] = {1.0 / 6227020800.0, -1.0 / 39916800.0, 1.0 / 362880.0, -1.0 / 5040.0, 1.0 / 120.0, -1.0 / 6.0};
  for (int i = 0; i < 6; i++) p = p * r2 + c[i];
  return r + r * r2 * p;
}
static double cos_poly(double r) {
  const double r2 = r * r;
  double p = 1.0 / 20922789888000.0; /* 1/16! */
  static const double c[] = {-1.0 / 87178291200.0, 1.0 / 479001600.0, -1.0 / 3628800.0, 1.0 / 40320.0, -1.0 / 720.0, 1.0 / 24.0, -0.5};
  for (int i = 0; i < 7; i++) p = p * r2 + c[i];
  return 1.0 + r2 * p;
}

/* sin and cos of a float-valued x (|x| < 2^20 accurate; larger arguments lose accuracy). */
static void sincos_d(double x, double *s, double *c) {
  static const double INVPIO2 = 6.36619772367581382433e-01, PIO2_1 = 1.57079632673412561417e+00,
                      PIO2_2 = 6.07710050630396597660e-11, PIO2_3 = 2.02226624871116645580e-21;
  const double k = __builtin_rint(x * INVPIO2);
  const double r = ((x - k * PIO2_1) - k * PIO2_2) - k * PIO2_3;
  const double sr = sin_poly(r), cr = cos_poly(r);
  switch ((int)((int64_t)k & 3)) {
    case 0: *s = sr; *c = cr; break;
    case 1: *s = cr; *c = -sr; break;
    case 2: *s = -sr; *c = -cr; break;
    default: *s = -cr; *c = sr; break;
  }
}

float expf(float x) {
  if (x != x) return x;
  if (x > 88.8f) return __builtin_inff();
  if (x < -104.0f) return 0.0f;
  return (float)exp(x);
}

float logf(float x) { return (float)log(x); }

float powf(float x, float y) {
  if (y == 0.0f || x == 1.0f) return 1.0f;
  if (x != x || y != y) return __builtin_nanf("");
  if (x == 0.0f) return y > 0 ? 0.0f : __builtin_inff();
  if (x < 0.0f) { /* integral y only */
    const float yi = __builtin_truncf(y);
    if (yi != y) return __builtin_nanf("");
    const float r = powf(-x, y);
    return ((int64_t)yi & 1) ? -r : r;
  }
  const double v = (double)y * log(x);
  if (v > 89.0) return __builtin_inff();
  if (v < -104.0) return 0.0f;
  return (float)exp(v);
}

void sincosf(float x, float *s, float *c) {
  if (__builtin_isinf(x) || x != x) { *s = *c = __builtin_nanf(""); return; }
  double sd, cd;
  sincos_d(x, &sd, &cd);
  *s = (float)sd;
  *c = (float)cd;
}
float sinf(float x) { float s, c; sincosf(x, &s, &c); return s; }
float cosf(float x) { float s, c; sincosf(x, &s, &c); return c; }

float tanhf(float x) {
  const double a = __builtin_fabs((double)x);
  if (x != x) return x;
  if (a > 10.0) return x > 0 ? 1.0f : -1.0f;
  double t;
  if (a < 0.125) { /* odd series: x - x^3/3 + 2x^5/15 - 17x^7/315 + 62x^9/2835 - 1382x^11/155925 + ... */
    const double x2 = a * a;
    t = a * (1.0 + x2 * (-1.0 / 3 + x2 * (2.0 / 15 + x2 * (-17.0 / 315 + x2 * (62.0 / 2835 + x2 * (-1382.0 / 155925 +
                    x2 * (21844.0 / 6081075 + x2 * (-929569.0 / 638512875))))))));
  } else {
    const double e = exp(2.0 * a);
    t = (e - 1.0) / (e + 1.0);
  }
  return (float)(x < 0 ? -t : t);
}

float ldexpf(float x, int n) {
  if (n > 300) n = 300;
  if (n < -300) n = -300;
  return (float)((double)x * pow2i(n / 2) * pow2i(n - n / 2));
}
