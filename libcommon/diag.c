/* SPDX-License-Identifier: 0BSD */
/** Diagnostics and the exit-status convention. */
#include "prelude.h"
#include "diag.h"
#include "dbuf.h"
#include "record.h"
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Set once in main() before any thread starts, read-only afterwards. */
static const char *prog_name = "ptools";
/* The worst exit status so far; raised from any thread. */
static atomic_int worst_status;
/* pcopy --server: where messages go instead of stderr, and what goes before
 * every path (the host, as the user named it). Set before any thread starts. */
static diag_sink_fn *sink;
static const char *path_prefix = "";

void diag_set_sink(diag_sink_fn *fn, const char *prefix)
{
	sink = fn;
	path_prefix = prefix ? prefix : "";
}

void diag_init(const char *progname)
{
	const char *slash = strrchr(progname, '/');

	prog_name = slash ? slash + 1 : progname;
}

const char *diag_prog(void)
{
	return prog_name;
}

void diag_raise(int status)
{
	int old = atomic_load(&worst_status);

	while (old < status && !atomic_compare_exchange_weak(&worst_status, &old, status))
		;
}

int diag_status(void)
{
	return atomic_load(&worst_status);
}

/*
 * Format the whole message into one buffer and write it with one write(2),
 * so that messages from different threads never mix within a line.
 */
static void emit(const char *path, uintmax_t line, const char *format, va_list args)
	__attribute__((format(printf, 3, 0)));

static void emit(const char *path, uintmax_t line, const char *format, va_list args)
{
	struct dbuf msg;
	int saved = errno;

	dbuf_init(&msg);
	dbuf_puts(&msg, prog_name);
	dbuf_puts(&msg, ": ");
	if (path) {
		dbuf_puts(&msg, path_prefix);
		rec_escape(&msg, path, strlen(path));
		if (line)
			dbuf_printf(&msg, ":%ju", line);
		dbuf_puts(&msg, ": ");
	}
	dbuf_vprintf(&msg, format, args);
	if (sink && msg.data) {
		sink(msg.data, msg.len);
	} else if (dbuf_putc(&msg, '\n') == 0) {
		ssize_t ignored = write(STDERR_FILENO, msg.data, msg.len);
		(void)ignored;
	} else {
		/* Out of memory: say what we can without allocating. */
		static const char oom[] = ": out of memory while reporting an error\n";
		ssize_t ignored = write(STDERR_FILENO, prog_name, strlen(prog_name));
		(void)ignored;
		ignored = write(STDERR_FILENO, oom, sizeof(oom) - 1);
		(void)ignored;
	}
	dbuf_free(&msg);
	errno = saved;
}

static void emitf(const char *path, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

static void emitf(const char *path, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	emit(path, 0, format, args);
	va_end(args);
}

const char *diag_strerror(int errnum)
{
	return errnum == ENOTREGULAR ? "not a regular file" : strerror(errnum);
}

void diag_file_error(const char *path, int errnum)
{
	emitf(path, "%s", diag_strerror(errnum));
	diag_raise(EXIT_FAILED);
}

void diag_file_errorf(const char *path, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	emit(path, 0, format, args);
	va_end(args);
	diag_raise(EXIT_FAILED);
}

void diag_input_error(const char *file, uintmax_t line, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	emit(file, line, format, args);
	va_end(args);
	diag_raise(EXIT_USAGE);
}

void diag_file_note(const char *path, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	emit(path, 0, format, args);
	va_end(args);
}

void diag_note(const char *format, ...)
{
	va_list args;

	va_start(args, format);
	emit(NULL, 0, format, args);
	va_end(args);
}

void diag_usage_error(const char *format, ...)
{
	va_list args;

	va_start(args, format);
	emit(NULL, 0, format, args);
	va_end(args);
	fprintf(stderr, "Try '%s --help' for more information.\n", prog_name);
	exit(EXIT_USAGE);
}

void diag_bad_option(int c, char *const *argv)
{
	const char *what = c == ':' ? "needs an argument" : "is unknown";

	/* A long option is the argument just consumed (optopt is 0 for an
	 * unknown one, its short letter for one missing its argument); a short
	 * option is the letter in optopt, which may sit inside a group (-vx). */
	const char *arg = optind > 1 ? argv[optind - 1] : "";

	if (optopt > 0 && optopt < 256 && !(c == ':' && strncmp(arg, "--", 2) == 0))
		diag_usage_error("option '-%c' %s", optopt, what);
	diag_usage_error("option '%s' %s", argv[optind - 1], what);
}

void diag_version(void)
{
	printf("%s (ptools) %s\n", prog_name, PTOOLS_VERSION);
	exit(diag_finish());
}

void diag_help(const char *text)
{
	fputs(text, stdout);
	exit(diag_finish());
}

unsigned diag_parse_count(const char *arg, const char *what)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end || errno || n < 1 || n > DIAG_COUNT_MAX)
		diag_usage_error("invalid %s count '%s' (1 to %d)", what, arg, DIAG_COUNT_MAX);
	return (unsigned)n;
}

void diag_stdout_error(int errnum)
{
	if (errnum != EPIPE)
		emitf("standard output", "%s", strerror(errnum));
	diag_raise(EXIT_FAILED);
}

int diag_finish(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		diag_stdout_error(errno);
	return diag_status();
}

void pt_assert_fail(const char *expr, const char *func, const char *file, int line)
{
	fprintf(stderr, "%s: %s@%s:%d: assertion failed: %s\n", prog_name, func, file,
		line, expr);
	abort();
}
