/* Minimal <math.h> for the freestanding wasm32 build (wasm/libm.c implements the non-builtin ones). */
#ifndef SF_WASM_MATH_H
#define SF_WASM_MATH_H
#define INFINITY __builtin_inff()
#define NAN __builtin_nanf("")
#define HUGE_VALF __builtin_huge_valf()
#define M_PI 3.14159265358979323846
#define isnan(x) __builtin_isnan(x)
#define isinf(x) __builtin_isinf(x)
#define isfinite(x) __builtin_isfinite(x)
/* single wasm instructions */
#define fabsf(x) __builtin_fabsf(x)
#define fabs(x) __builtin_fabs(x)
#define sqrtf(x) __builtin_sqrtf(x)
#define sqrt(x) __builtin_sqrt(x)
#define floorf(x) __builtin_floorf(x)
#define ceilf(x) __builtin_ceilf(x)
#define truncf(x) __builtin_truncf(x)
#define rintf(x) __builtin_rintf(x)
#define nearbyintf(x) __builtin_nearbyintf(x)
#define fmaxf(a, b) sf_fmaxf(a, b)
#define fminf(a, b) sf_fminf(a, b)
#define copysignf(a, b) __builtin_copysignf(a, b)
/* C semantics of fmaxf/fminf (a NaN operand is ignored); wasm's f32.max propagates NaN. */
static inline float sf_fmaxf(float a, float b) { return a != a ? b : b != b ? a : (a > b ? a : b); }
static inline float sf_fminf(float a, float b) { return a != a ? b : b != b ? a : (a < b ? a : b); }
float fmaf(float x, float y, float z);
float roundf(float x);
float expf(float x);
float logf(float x);
float powf(float x, float y);
float sinf(float x);
float cosf(float x);
void sincosf(float x, float *s, float *c);
float tanhf(float x);
float ldexpf(float x, int n);
double exp(double x);
double log(double x);
#endif
