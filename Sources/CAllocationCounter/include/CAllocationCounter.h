#ifndef NEURALFX_ALLOCATION_COUNTER_H
#define NEURALFX_ALLOCATION_COUNTER_H

#include <stdint.h>

/// Starts counting heap allocations (malloc, calloc, realloc, aligned
/// allocations) and frees made by the calling thread.
void nfx_allocation_counting_begin(void);

/// Stops counting on the calling thread and returns how many allocations and
/// frees it saw since the matching begin.
int64_t nfx_allocation_counting_end(void);

/// Allocations and frees seen so far on the calling thread while counting.
int64_t nfx_allocation_count(void);

#endif
