/* SPDX-License-Identifier: 0BSD */
/**
 * Diagnostics and the exit-status convention: the one place that prints to
 * stderr. Messages are "prog: path: reason" with the path escaped as in a
 * record (so a name holding a newline cannot forge a second message line).
 *
 * The worst status seen so far is kept in an atomic, so worker threads may
 * report and raise it without locks; that atomic and the program name (set
 * once before any thread starts) are the module's only global state.
 */
#ifndef PTOOLS_DIAG_H
#define PTOOLS_DIAG_H

#include "prelude.h"
#include <errno.h>
#include <stdarg.h>

enum {
	EXIT_ALL_GOOD = 0, /* everything succeeded */
	EXIT_FAILED = 1,   /* some file failed, differed or could not be read */
	EXIT_USAGE = 2,    /* usage error or malformed input */
};

/** Set the program name used as the message prefix; call first in main(). */
void diag_init(const char *progname);

/** Where a message line (without its newline) goes instead of stderr. */
typedef void diag_sink_fn(const char *line, size_t len);

/**
 * Send every message to sink (NULL: stderr again) and put prefix before
 * every path in them (NULL: nothing). For pcopy --server, whose messages
 * travel to the client in-band and name paths as host:path. Call before
 * any thread starts.
 */
void diag_set_sink(diag_sink_fn *sink, const char *prefix);

/** The program name given to diag_init(). */
const char *diag_prog(void);

/** Raise the exit status to at least status (thread-safe). */
void diag_raise(int status);

/** The worst status raised so far (thread-safe). */
int diag_status(void);

/** "prog: path: diag_strerror(errnum)" and raise the status to EXIT_FAILED. path may be NULL. */
void diag_file_error(const char *path, int errnum);

/*
 * The errno for an entry that is there but is neither a regular file nor a
 * directory (a FIFO, a device, a socket, a symlink) where only a regular
 * file will do (open_regular_at): one no open of a file on a local or
 * network filesystem gives, so that diag_strerror can name it.
 */
#define ENOTREGULAR EMEDIUMTYPE

/** strerror(errnum), but "not a regular file" for ENOTREGULAR. */
const char *diag_strerror(int errnum);

/** "prog: path: message" (printf format) and raise the status to EXIT_FAILED. */
void diag_file_errorf(const char *path, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/** "prog: FILE:LINE: message" for malformed input; raises the status to EXIT_USAGE. */
void diag_input_error(const char *file, uintmax_t line, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

/** "prog: path: message" without changing the status. */
void diag_file_note(const char *path, const char *format, ...) __attribute__((format(printf, 2, 3)));

/** "prog: message" without changing the status (notes, summaries). */
void diag_note(const char *format, ...) __attribute__((format(printf, 1, 2)));

/**
 * "prog: message" then "Try 'prog --help' for more information." and
 * exit(EXIT_USAGE).
 */
_Noreturn void diag_usage_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

/**
 * The usage error for what getopt_long returned as c when it was not an
 * option the program knows: ':' (an option without its argument; the
 * optstring must start with ':' and opterr be 0) or '?' (an unknown option).
 * Names the option as the user wrote it, then exits as diag_usage_error.
 */
_Noreturn void diag_bad_option(int c, char *const *argv);

/** The largest count diag_parse_count accepts (threads, jobs, readers, writers). */
#define DIAG_COUNT_MAX 1024

/**
 * The count given to an option such as -j: a decimal number from 1 to
 * DIAG_COUNT_MAX. Anything else is a usage error, said the same way by
 * every program: "invalid WHAT count 'ARG' (1 to 1024)".
 */
unsigned diag_parse_count(const char *arg, const char *what);

/**
 * A write error on standard output (errnum): "prog: standard output:
 * reason", the one wording every program uses; a reader that went away
 * (EPIPE) is not worth a message. Raises the status to EXIT_FAILED.
 */
void diag_stdout_error(int errnum);

/** Print "prog (ptools) VERSION" to stdout and exit(0). */
_Noreturn void diag_version(void);

/** Print the whole text to stdout and exit(0) (for --help). */
_Noreturn void diag_help(const char *text);

/**
 * Flush stdout and check for a write error (a full disk behind "> list");
 * on error report it and raise EXIT_FAILED. Returns diag_status().
 * Call at the end of main(): return diag_finish();
 */
int diag_finish(void);

#endif
