/* SPDX-License-Identifier: 0BSD */
/**
 * How the programs tell far storage from near: a thread that waited on the
 * device or the network slept in the kernel (a voluntary context switch);
 * one that was merely preempted on a busy machine did not. Timing alone
 * cannot tell those apart, and on a loaded machine every call is slow.
 */
#ifndef PTOOLS_SLEEPS_H
#define PTOOLS_SLEEPS_H

#include "prelude.h"

/** Voluntary context switches of the calling thread so far (0 where unknown). */
long thread_sleeps(void);

#endif
