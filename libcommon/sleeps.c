/* SPDX-License-Identifier: 0BSD */
/** Counting the calling thread's sleeps in the kernel (sleeps.h). */
#include "prelude.h"
#include "sleeps.h"
#include <sys/resource.h>

long thread_sleeps(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_nvcsw : 0;
}
