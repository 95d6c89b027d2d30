/* SPDX-License-Identifier: 0BSD */
/**
 * A tiny unit-test harness for libcommon: each test file defines tests with
 * UNIT_TEST(name) { ... } (registered by a constructor, so main.c never needs
 * editing) and checks with EXPECT(cond), which records a failure with its
 * location and goes on.
 */
#ifndef PTOOLS_UNIT_H
#define PTOOLS_UNIT_H

#include "prelude.h"

typedef void unit_test_fn(void);

/** Register a test; called by UNIT_TEST's constructor. */
void unit_register(const char *name, unit_test_fn *fn);

/** Record a failed expectation. */
void unit_fail(const char *expr, const char *file, int line);

#define UNIT_TEST(name) \
	static void name(void); \
	__attribute__((constructor)) static void name##_register(void) { unit_register(#name, name); } \
	static void name(void)

#define EXPECT(cond) ((cond) ? (void)0 : unit_fail(#cond, __FILE__, __LINE__))

#endif
