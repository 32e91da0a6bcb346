// Interposes the C allocator so tests (and fxhost's self-check) can prove the
// real-time path allocates nothing. Symbols defined in the executable win over
// libc's for every shared library, including the Swift runtime, so each heap
// operation anywhere in the process passes through here. glibc exports its
// own implementations as __libc_*, which avoids the dlsym bootstrap problem.
//
// Under AddressSanitizer or ThreadSanitizer the sanitizer owns the allocator:
// interposing would hand its blocks to glibc's free (an abort on the first
// free). There the sanitizer's allocation hooks do the counting instead.
#define _GNU_SOURCE
#include "CAllocationCounter.h"
#include <errno.h>
#include <stddef.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NFX_SANITIZED_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NFX_SANITIZED_ALLOCATOR 1
#endif

static __thread int counting;
static __thread int64_t count;

static inline void note(void) {
    if (counting) count++;
}

#ifdef NFX_SANITIZED_ALLOCATOR
#include <sanitizer/allocator_interface.h>

static void counted_malloc(const volatile void *p, size_t size) { (void)p; (void)size; note(); }
static void counted_free(const volatile void *p) { if (p) note(); }

__attribute__((constructor)) static void install_counting_hooks(void) {
    __sanitizer_install_malloc_and_free_hooks(counted_malloc, counted_free);
}
#else
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

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
#endif

void nfx_allocation_counting_begin(void) { count = 0; counting = 1; }
int64_t nfx_allocation_counting_end(void) { counting = 0; return count; }
int64_t nfx_allocation_count(void) { return count; }
