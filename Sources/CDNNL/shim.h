// oneDNN (Debian libdnnl-dev, 2.x) for the engine's int8 and fp32 matrix products.
//
// Only the header is used at build time: the library is opened at run time with dlopen, so a
// host without libdnnl still runs the engine (on OpenBLAS, in fp32) and says so, instead of
// failing to start. The function table below is typed from the header's own declarations.
#include <dnnl.h>
#include <dlfcn.h>
#include <stddef.h>

/// The oneDNN entry points the engine calls, filled by `sealpipe_dnnl_open`.
typedef struct sealpipe_dnnl_api {
    __typeof__(&dnnl_version) version;
    __typeof__(&dnnl_get_effective_cpu_isa) get_effective_cpu_isa;
    __typeof__(&dnnl_engine_create) engine_create;
    __typeof__(&dnnl_stream_create) stream_create;
    __typeof__(&dnnl_stream_wait) stream_wait;
    __typeof__(&dnnl_stream_destroy) stream_destroy;
    __typeof__(&dnnl_memory_desc_init_by_tag) memory_desc_init_by_tag;
    __typeof__(&dnnl_memory_desc_get_size) memory_desc_get_size;
    __typeof__(&dnnl_memory_create) memory_create;
    __typeof__(&dnnl_memory_destroy) memory_destroy;
    __typeof__(&dnnl_matmul_desc_init) matmul_desc_init;
    __typeof__(&dnnl_primitive_desc_create) primitive_desc_create;
    __typeof__(&dnnl_primitive_desc_query) primitive_desc_query;
    __typeof__(&dnnl_primitive_desc_query_md) primitive_desc_query_md;
    __typeof__(&dnnl_primitive_desc_destroy) primitive_desc_destroy;
    __typeof__(&dnnl_reorder_primitive_desc_create) reorder_primitive_desc_create;
    __typeof__(&dnnl_primitive_create) primitive_create;
    __typeof__(&dnnl_primitive_execute) primitive_execute;
    __typeof__(&dnnl_primitive_destroy) primitive_destroy;
    __typeof__(&dnnl_primitive_attr_create) primitive_attr_create;
    __typeof__(&dnnl_primitive_attr_set_scratchpad_mode) primitive_attr_set_scratchpad_mode;
    __typeof__(&dnnl_primitive_attr_destroy) primitive_attr_destroy;
    __typeof__(&dnnl_sgemm) sgemm;
    /// libgomp's, through libdnnl's dependencies (oneDNN's OpenMP runtime); may be NULL.
    void (*omp_set_num_threads)(int);
} sealpipe_dnnl_api;

/// Opens `library` and fills `api`. Returns NULL on success, or a static description of what
/// is missing (dlerror's text, or the first absent symbol).
static inline const char *sealpipe_dnnl_open(const char *library, sealpipe_dnnl_api *api) {
    void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (!handle) return dlerror();
#define SEALPIPE_DNNL_LOAD(field, symbol)                                 \
    api->field = (__typeof__(api->field))dlsym(handle, #symbol);          \
    if (!api->field) return "symbol " #symbol " is missing";
    SEALPIPE_DNNL_LOAD(version, dnnl_version)
    SEALPIPE_DNNL_LOAD(get_effective_cpu_isa, dnnl_get_effective_cpu_isa)
    SEALPIPE_DNNL_LOAD(engine_create, dnnl_engine_create)
    SEALPIPE_DNNL_LOAD(stream_create, dnnl_stream_create)
    SEALPIPE_DNNL_LOAD(stream_wait, dnnl_stream_wait)
    SEALPIPE_DNNL_LOAD(stream_destroy, dnnl_stream_destroy)
    SEALPIPE_DNNL_LOAD(memory_desc_init_by_tag, dnnl_memory_desc_init_by_tag)
    SEALPIPE_DNNL_LOAD(memory_desc_get_size, dnnl_memory_desc_get_size)
    SEALPIPE_DNNL_LOAD(memory_create, dnnl_memory_create)
    SEALPIPE_DNNL_LOAD(memory_destroy, dnnl_memory_destroy)
    SEALPIPE_DNNL_LOAD(matmul_desc_init, dnnl_matmul_desc_init)
    SEALPIPE_DNNL_LOAD(primitive_desc_create, dnnl_primitive_desc_create)
    SEALPIPE_DNNL_LOAD(primitive_desc_query, dnnl_primitive_desc_query)
    SEALPIPE_DNNL_LOAD(primitive_desc_query_md, dnnl_primitive_desc_query_md)
    SEALPIPE_DNNL_LOAD(primitive_desc_destroy, dnnl_primitive_desc_destroy)
    SEALPIPE_DNNL_LOAD(reorder_primitive_desc_create, dnnl_reorder_primitive_desc_create)
    SEALPIPE_DNNL_LOAD(primitive_create, dnnl_primitive_create)
    SEALPIPE_DNNL_LOAD(primitive_execute, dnnl_primitive_execute)
    SEALPIPE_DNNL_LOAD(primitive_destroy, dnnl_primitive_destroy)
    SEALPIPE_DNNL_LOAD(primitive_attr_create, dnnl_primitive_attr_create)
    SEALPIPE_DNNL_LOAD(primitive_attr_set_scratchpad_mode, dnnl_primitive_attr_set_scratchpad_mode)
    SEALPIPE_DNNL_LOAD(primitive_attr_destroy, dnnl_primitive_attr_destroy)
    SEALPIPE_DNNL_LOAD(sgemm, dnnl_sgemm)
#undef SEALPIPE_DNNL_LOAD
    api->omp_set_num_threads = (void (*)(int))dlsym(handle, "omp_set_num_threads");
    return NULL;
}

/// The implementation name a primitive descriptor chose (e.g. `brg:avx512_core_vnni`), or NULL.
static inline const char *sealpipe_dnnl_impl_name(const sealpipe_dnnl_api *api, const_dnnl_primitive_desc_t pd) {
    const char *name = NULL;
    if (api->primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success) return NULL;
    return name;
}

/// One argument of `dnnl_primitive_execute`.
static inline dnnl_exec_arg_t sealpipe_dnnl_arg(int arg, dnnl_memory_t memory) {
    dnnl_exec_arg_t value = {arg, memory};
    return value;
}
