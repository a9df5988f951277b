/* crc32c.h — CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every
 * log record. Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at run
 * time), else a table. Both give identical results.
 *
 * Thread-safe, no allocation.
 */
#ifndef SLUICE_CRC32C_H
#define SLUICE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC: crc32c_update(0, p, n) is the CRC of p[0..n); feeding the bytes in
 * pieces gives the same result as feeding them at once. Check value: CRC of "123456789"
 * is 0xE3069283. */
uint32_t crc32c_update(uint32_t crc, const void *p, size_t n);

/* The portable table implementation, exposed so tests can compare both paths. */
uint32_t crc32c_sw(uint32_t crc, const void *p, size_t n);

#endif
