/* Node-API entry point of the SynFlux native CPU kernels (placeholder, filled in below). */
#include <node_api.h>

static napi_value init(napi_env env, napi_value exports) { return exports; }
NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
