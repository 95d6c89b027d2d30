/* SPDX-License-Identifier: 0BSD */
/** Runs every registered libcommon unit test; exit 0 when all pass. */
#include "prelude.h"
#include "unit.h"
#include "diag.h"
#include <stdio.h>
#include <string.h>

#define MAX_TESTS 256

static struct {
	const char *name;
	unit_test_fn *fn;
} tests[MAX_TESTS];
static size_t ntests;
static size_t failures;

void unit_register(const char *name, unit_test_fn *fn)
{
	PT_ASSERT(ntests < MAX_TESTS);
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

void unit_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "unit-tests: %s:%d: expected %s\n", file, line, expr);
	failures++;
}

int main(int argc, char *argv[])
{
	size_t i, ran = 0, failed_tests = 0;

	diag_init("unit-tests");
	for (i = 0; i < ntests; i++) {
		size_t before = failures;

		if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)
			continue;
		tests[i].fn();
		ran++;
		if (failures != before) {
			failed_tests++;
			printf("not ok - unit %s\n", tests[i].name);
		}
	}
	fprintf(stderr, "unit-tests: %zu run, %zu failed\n", ran, failed_tests);
	return failed_tests ? 1 : 0;
}
