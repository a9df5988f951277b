/* crc32c.c — CRC-32C with the SSE4.2 instruction when available, a table otherwise.
 *
 * The hardware path works 8 bytes at a time with _mm_crc32_u64, on three chains at once
 * for runs of 192 bytes or more (below). The choice is made on the first call and cached;
 * a race between two first calls is harmless since both compute the same tables and
 * answer. */
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
/* Three streams at once: the crc32 instruction takes 3 cycles but can start one every
 * cycle, so one chain uses a third of it. A round of 3 * STRIDE bytes runs three chains
 * over its thirds (the second and third from 0) and joins them: by linearity, the
 * register after A|B is shift(reg after A, |B| zero bytes) ^ (reg of B from 0). The shift
 * by STRIDE zero bytes is a table of 4 * 256 entries (its value on each byte of the
 * register), computed once from crc_table. A log record (~200 bytes) is one round. */
#define STRIDE 64
static uint32_t shift_table[4][256];
static atomic_int shift_ready;

static void shift_init(void)
{
    if (!atomic_load_explicit(&crc_table_ready, memory_order_acquire))
        crc_table_init();
    for (int k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++) {
            uint32_t v = b << (8 * k);
            for (int z = 0; z < STRIDE; z++)
                v = crc_table[v & 0xFF] ^ (v >> 8);
            shift_table[k][b] = v;
        }
    atomic_store_explicit(&shift_ready, 1, memory_order_release);
}

static inline uint32_t shift_stride(uint32_t v)
{
    return shift_table[0][v & 0xFF] ^ shift_table[1][(v >> 8) & 0xFF] ^
           shift_table[2][(v >> 16) & 0xFF] ^ shift_table[3][v >> 24];
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const void *p,
                                                             size_t n)
{
    const unsigned char *s = p;
    uint64_t c = ~crc & 0xFFFFFFFFu;
    while (n >= 3 * STRIDE) {
        uint64_t c1 = 0, c2 = 0, w;
        for (size_t i = 0; i < STRIDE; i += 8) {
            memcpy(&w, s + i, 8);
            c = _mm_crc32_u64(c, w);
            memcpy(&w, s + STRIDE + i, 8);
            c1 = _mm_crc32_u64(c1, w);
            memcpy(&w, s + 2 * STRIDE + i, 8);
            c2 = _mm_crc32_u64(c2, w);
        }
        c = shift_stride(shift_stride((uint32_t)c) ^ (uint32_t)c1) ^ (uint32_t)c2;
        s += 3 * STRIDE;
        n -= 3 * STRIDE;
    }
    /* unaligned 8-byte loads cost nothing extra: no byte-wise run up to alignment */
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        c = _mm_crc32_u64(c, w);
        s += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    if (n >= 4) {
        uint32_t w;
        memcpy(&w, s, 4);
        c32 = _mm_crc32_u32(c32, w);
        s += 4;
        n -= 4;
    }
    if (n >= 2) {
        uint16_t w;
        memcpy(&w, s, 2);
        c32 = _mm_crc32_u16(c32, w);
        s += 2;
        n -= 2;
    }
    if (n)
        c32 = _mm_crc32_u8(c32, *s);
    return ~c32;
}
#endif

/* 0 unknown, 1 hardware, 2 software */
static atomic_int crc_impl;

uint32_t crc32c_update(uint32_t crc, const void *p, size_t n)
{
    /* acquire: a thread that sees 1 also sees the shift table (stored before, release) */
    int impl = atomic_load_explicit(&crc_impl, memory_order_acquire);
    if (!impl) {
#ifdef CRC32C_HAVE_X86
        __builtin_cpu_init();
        impl = __builtin_cpu_supports("sse4.2") ? 1 : 2;
        if (impl == 1 && !atomic_load_explicit(&shift_ready, memory_order_acquire))
            shift_init();
#else
        impl = 2;
#endif
        atomic_store_explicit(&crc_impl, impl, memory_order_release);
    }
#ifdef CRC32C_HAVE_X86
    if (impl == 1)
        return crc32c_hw(crc, p, n);
#endif
    return crc32c_sw(crc, p, n);
}
