/* SPDX-License-Identifier: 0BSD */
/**
 * An LD_PRELOAD shim that runs a program out of memory, for the tests of
 * what a tool does when an allocation fails. Once the program has called
 * clock_gettime(2) (pfind reads its start time just before it reads its
 * arguments, so the dynamic loader and libc's start-up are left alone),
 * every call to the allocation functions named in NOMEM_SHIM, a
 * comma-separated list of malloc, calloc and realloc, fails with ENOMEM.
 * The real functions are found with dlsym(RTLD_NEXT), so that under
 * AddressSanitizer the sanitizer's allocator still serves the others.
 * Built by tests/pfind.bats with cc -shared -fPIC.
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_bool armed;

/* Whether name is in NOMEM_SHIM and the shim is armed. */
static int failing(const char *name)
{
	const char *list = getenv("NOMEM_SHIM"), *p;
	size_t len = strlen(name);

	if (!atomic_load(&armed) || !list)
		return 0;
	for (p = list; (p = strstr(p, name)) != NULL; p += len)
		if ((p == list || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
			return 1;
	return 0;
}

int clock_gettime(clockid_t clock, struct timespec *ts)
{
	int (*real)(clockid_t, struct timespec *) =
		(int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");

	atomic_store(&armed, 1);
	return real(clock, ts);
}

void *malloc(size_t size)
{
	static void *(*real)(size_t);

	if (!real)
		real = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	if (failing("malloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return real(size);
}

void *calloc(size_t count, size_t size)
{
	static void *(*real)(size_t, size_t);

	if (!real)
		real = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	if (failing("calloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return real(count, size);
}

void *realloc(void *old, size_t size)
{
	static void *(*real)(void *, size_t);

	if (!real)
		real = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	if (failing("realloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return real(old, size);
}
