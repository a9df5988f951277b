/* crc32c.c — CRC-32C with the SSE4.2 instruction when available, a table otherwise.
 *
 * The hardware path works 8 bytes at a time with _mm_crc32_u64 (about 8 bytes per cycle
 * of throughput per dependency chain; records are small, so no 3-way interleaving). The
 * choice is made on the first call and cached; a race between two first calls is
 * harmless since both compute the same answer. */
#include "bus/crc32c.h"

#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#define CRC32C_HAVE_X86 1
#endif

static uint32_t crc_table[256];
static atomic_int crc_table_ready;

static void crc_table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        crc_table[i] = c;
    }
    atomic_store_explicit(&crc_table_ready, 1, memory_order_release);
}

uint32_t crc32c_sw(uint32_t crc, const void *p, size_t n)
{
    if (!atomic_load_explicit(&crc_table_ready, memory_order_acquire))
        crc_table_init();
    const unsigned char *s = p;
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *s++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

#ifdef CRC32C_HAVE_X86
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const void *p,
                                                             size_t n)
{
    const unsigned char *s = p;
    uint64_t c = ~crc & 0xFFFFFFFFu;
    while (n && ((uintptr_t)s & 7)) {
        c = _mm_crc32_u8((uint32_t)c, *s++);
        n--;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        c = _mm_crc32_u64(c, w);
        s += 8;
        n -= 8;
    }
    while (n--)
        c = _mm_crc32_u8((uint32_t)c, *s++);
    return ~(uint32_t)c;
}
#endif

/* 0 unknown, 1 hardware, 2 software */
static atomic_int crc_impl;

uint32_t crc32c_update(uint32_t crc, const void *p, size_t n)
{
    int impl = atomic_load_explicit(&crc_impl, memory_order_relaxed);
    if (!impl) {
#ifdef CRC32C_HAVE_X86
        __builtin_cpu_init();
        impl = __builtin_cpu_supports("sse4.2") ? 1 : 2;
#else
        impl = 2;
#endif
        atomic_store_explicit(&crc_impl, impl, memory_order_relaxed);
    }
#ifdef CRC32C_HAVE_X86
    if (impl == 1)
        return crc32c_hw(crc, p, n);
#endif
    return crc32c_sw(crc, p, n);
}
