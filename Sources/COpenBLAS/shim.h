#include <cblas.h>
// openblas_set_num_threads, openblas_get_corename and openblas_get_config are declared in
// cblas.h of OpenBLAS builds.

// The engine reads the CPU's features itself (CPUID and XGETBV), not its model name, to check
// the kernel OpenBLAS chose: hypervisors and confidential VMs mask the model, and OpenBLAS then
// falls back to a generic kernel. Static inline so no C target is needed.
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/// Fills regs with EAX, EBX, ECX, EDX of CPUID(leaf, subleaf); 0 when the leaf is not supported.
static inline int sealpipe_cpuid(unsigned int leaf, unsigned int subleaf, unsigned int regs[4]) {
    unsigned int a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(leaf, subleaf, &a, &b, &c, &d)) return 0;
    regs[0] = a; regs[1] = b; regs[2] = c; regs[3] = d;
    return 1;
}

/// XCR0: the register states the OS saves. Call only when CPUID.1:ECX.OSXSAVE is set.
static inline unsigned long long sealpipe_xgetbv0(void) {
    unsigned int lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#else
static inline int sealpipe_cpuid(unsigned int leaf, unsigned int subleaf, unsigned int regs[4]) {
    (void)leaf; (void)subleaf; (void)regs;
    return 0;
}
static inline unsigned long long sealpipe_xgetbv0(void) { return 0; }
#endif
