#include <cblas.h>
// openblas_set_num_threads is declared in cblas.h of OpenBLAS builds.
