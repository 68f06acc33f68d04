// Side-by-side CPU time of the encoder's matrix products on one thread: OpenBLAS sgemm, oneDNN
// sgemm (dnnl_sgemm) and oneDNN's u8×s8→s32 matmul (the int8 path's kernel), at all-MiniLM-L6-v2's
// four linear shapes. The three run interleaved, call by call, and are timed in thread CPU time,
// so that other processes on a shared machine slow none of them more than the others.
//
//   gcc -O2 Scripts/bench/gemm_probe.c -o /tmp/gemm_probe -ldnnl -lopenblas -fopenmp && /tmp/gemm_probe
#include <cblas.h>
#include <dnnl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHECK(x) do { if ((x) != dnnl_success) { fprintf(stderr, "failed: %s\n", #x); exit(1); } } while (0)

static double cpu(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
    omp_set_num_threads(1);
    openblas_set_num_threads(1);
    dnnl_engine_t engine;
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    dnnl_stream_t stream;
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    const int shapes[4][2] = {{1152, 384}, {384, 384}, {1536, 384}, {384, 1536}};  // n, k
    const int rows[3] = {16, 128, 448};
    printf("OpenBLAS %s, oneDNN %d.%d.%d; GFLOP/s (GOP/s for int8) per CPU-second, best of 5 rounds\n",
           openblas_get_corename(), dnnl_version()->major, dnnl_version()->minor, dnnl_version()->patch);
    printf("%5s %5s %5s %12s %12s %12s %10s %10s\n", "m", "n", "k", "openblas", "onednn-f32", "onednn-int8",
           "dnnl/obl", "int8/obl");
    for (int r = 0; r < 3; r++) {
        for (int s = 0; s < 4; s++) {
            int m = rows[r], n = shapes[s][0], k = shapes[s][1];
            float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * n * k), *c = malloc(sizeof(float) * m * n);
            unsigned char *a8 = malloc(m * k);
            signed char *b8 = malloc(n * k);
            int *c32 = malloc(sizeof(int) * m * n);
            for (int i = 0; i < m * k; i++) { a[i] = (rand() % 2000) / 1000.0f - 1; a8[i] = rand() % 256; }
            for (int i = 0; i < n * k; i++) { b[i] = (rand() % 2000) / 1000.0f - 1; b8[i] = rand() % 255 - 127; }
            dnnl_memory_desc_t src, wei, dst, plain;
            dnnl_dims_t sd = {m, k}, wd = {k, n}, dd = {m, n};
            CHECK(dnnl_memory_desc_init_by_tag(&src, 2, sd, dnnl_u8, dnnl_ab));
            CHECK(dnnl_memory_desc_init_by_tag(&wei, 2, wd, dnnl_s8, dnnl_format_tag_any));
            CHECK(dnnl_memory_desc_init_by_tag(&dst, 2, dd, dnnl_s32, dnnl_ab));
            CHECK(dnnl_memory_desc_init_by_tag(&plain, 2, wd, dnnl_s8, dnnl_ba));
            dnnl_matmul_desc_t op;
            CHECK(dnnl_matmul_desc_init(&op, &src, &wei, NULL, &dst));
            dnnl_primitive_desc_t pd;
            CHECK(dnnl_primitive_desc_create(&pd, &op, NULL, engine, NULL));
            const dnnl_memory_desc_t *packed = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
            void *storage = aligned_alloc(64, (dnnl_memory_desc_get_size(packed) + 63) / 64 * 64);
            dnnl_primitive_desc_t rpd;
            CHECK(dnnl_reorder_primitive_desc_create(&rpd, &plain, engine, packed, engine, NULL));
            dnnl_primitive_t reorder, matmul;
            CHECK(dnnl_primitive_create(&reorder, rpd));
            CHECK(dnnl_primitive_create(&matmul, pd));
            dnnl_memory_t mplain, mpacked, msrc, mdst;
            CHECK(dnnl_memory_create(&mplain, &plain, engine, b8));
            CHECK(dnnl_memory_create(&mpacked, packed, engine, storage));
            CHECK(dnnl_memory_create(&msrc, &src, engine, a8));
            CHECK(dnnl_memory_create(&mdst, &dst, engine, c32));
            dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, mplain}, {DNNL_ARG_TO, mpacked}};
            CHECK(dnnl_primitive_execute(reorder, stream, 2, ra));
            dnnl_exec_arg_t ma[3] = {{DNNL_ARG_SRC, msrc}, {DNNL_ARG_WEIGHTS, mpacked}, {DNNL_ARG_DST, mdst}};
            int calls = (int)(2e9 / (2.0 * m * n * k)) + 1;
            double best[3] = {0, 0, 0};
            for (int round = 0; round < 5; round++) {
                double t[3] = {0, 0, 0};
                for (int i = 0; i < calls; i++) {
                    double t0 = cpu();
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, a, k, b, k, 1, c, n);
                    double t1 = cpu();
                    dnnl_sgemm('N', 'T', m, n, k, 1, a, k, b, k, 1, c, n);
                    double t2 = cpu();
                    CHECK(dnnl_primitive_execute(matmul, stream, 3, ma));
                    double t3 = cpu();
                    t[0] += t1 - t0; t[1] += t2 - t1; t[2] += t3 - t2;
                }
                for (int j = 0; j < 3; j++) {
                    double rate = 2.0 * m * n * k * calls / t[j] / 1e9;
                    if (rate > best[j]) best[j] = rate;
                }
            }
            printf("%5d %5d %5d %12.1f %12.1f %12.1f %9.2fx %9.2fx\n", m, n, k, best[0], best[1], best[2],
                   best[1] / best[0], best[2] / best[0]);
            free(a); free(b); free(c); free(a8); free(b8); free(c32); free(storage);
        }
    }
    return 0;
}
