/* SPDX-License-Identifier: 0BSD */
/** Feature-test macros and the few definitions every file needs: include first. */
#ifndef PTOOLS_PRELUDE_H
#define PTOOLS_PRELUDE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* openat2/statx/getdents64/O_TMPFILE and friends */
#endif
#define _FILE_OFFSET_BITS 64

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef PTOOLS_VERSION
#define PTOOLS_VERSION "0.0.0"
#endif

/** Number of elements of a true array. */
#define countof(a) (sizeof(a) / sizeof((a)[0]))

/**
 * Invariant check for bugs only, never for user input: prints
 * "prog: func@file:line: assertion failed: expr" and aborts.
 */
#define PT_ASSERT(expr) \
	((expr) ? (void)0 : pt_assert_fail(#expr, __func__, __FILE__, __LINE__))

_Noreturn void pt_assert_fail(const char *expr, const char *func, const char *file, int line);

#endif
