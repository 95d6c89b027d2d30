/* SPDX-License-Identifier: 0BSD */
/** A batch of regular files to copy together (batch.h). */
#include "prelude.h"
#include "batch.h"
#include "diag.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void batch_free(struct file_batch *batch)
{
	if (!batch)
		return;
	if (batch->own_dirfd && batch->dirfd >= 0)
		close(batch->dirfd);
	dbuf_free(&batch->text);
	free(batch);
}

int batch_push(struct file_batch *batch, const char *name, const char *rel, size_t len)
{
	size_t off = batch->text.len, name_len = name ? strlen(name) + 1 : 0;

	PT_ASSERT(batch->n < PREREAD_FILES);
	if ((name && dbuf_append(&batch->text, name, name_len) != 0) ||
	    dbuf_append(&batch->text, rel, len) != 0 || dbuf_putc(&batch->text, '\0') != 0) {
		dbuf_truncate(&batch->text, off);
		errno = ENOMEM;
		return -1;
	}
	batch->name_off[batch->n] = off;
	batch->rel_off[batch->n] = off + name_len;
	batch->rel_len[batch->n] = len;
	batch->n++;
	return 0;
}
