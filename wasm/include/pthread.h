/* Single-threaded stand-in for <pthread.h> (the wasm build runs every kernel on the caller). */
#ifndef SF_WASM_PTHREAD_H
#define SF_WASM_PTHREAD_H
typedef int pthread_once_t;
#define PTHREAD_ONCE_INIT 0
static inline int pthread_once(pthread_once_t *once, void (*fn)(void)) {
  if (!*once) { *once = 1; fn(); }
  return 0;
}
#endif
