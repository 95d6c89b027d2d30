/* SPDX-License-Identifier: 0BSD */
/**
 * Room for one more element in an array that doubles when full: the few
 * lines every growing list here (rules, entries, frames, missing files)
 * would otherwise write again, with the size's multiplication checked (as
 * OpenBSD's reallocarray checks it).
 */
#ifndef PTOOLS_GROW_H
#define PTOOLS_GROW_H

#include "prelude.h"

/**
 * Room for need elements in the array *array points to (a T **), which has
 * room for *cap elements of size bytes: when need is more than *cap, the
 * array is reallocated to *cap doubled (first when it is 0) as many times as
 * it takes (a large one into huge pages, hugepage.h), and *cap set. Returns
 * 0, or -1 with errno ENOMEM and the array and *cap as they were.
 */
int grow(void *array, size_t *cap, size_t need, size_t size, size_t first);

/** grow for an array p with its capacity at capp: the element size from p's type. */
#define GROW(p, capp, need, first) grow(&(p), (capp), (need), sizeof(*(p)), (first))

#endif
