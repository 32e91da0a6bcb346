// Interposes the C allocator so tests (and fxhost's self-check) can prove the
// real-time path allocates nothing. Symbols defined in the executable win over
// libc's for every shared library, including the Swift runtime, so each heap
// operation anywhere in the process passes through here. glibc exports its
// own implementations as __libc_*, which avoids the dlsym bootstrap problem.
#define _GNU_SOURCE
#include "CAllocationCounter.h"
#include <errno.h>
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static __thread int counting;
static __thread int64_t count;

static inline void note(void) {
    if (counting) count++;
}

void *malloc(size_t size) { note(); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { note(); return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { note(); return __libc_realloc(p, size); }
void free(void *p) { if (p) note(); __libc_free(p); }
void *memalign(size_t alignment, size_t size) { note(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { note(); return __libc_memalign(alignment, size); }

int posix_memalign(void **out, size_t alignment, size_t size) {
    note();
    void *p = __libc_memalign(alignment, size);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

void nfx_allocation_counting_begin(void) { count = 0; counting = 1; }
int64_t nfx_allocation_counting_end(void) { counting = 0; return count; }
int64_t nfx_allocation_count(void) { return count; }
