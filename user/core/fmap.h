/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * File mappings a send queue can hold instead of copies of the bytes (the
 * role of the page cache pages Linux's sendfile() puts in an skb).  An
 * application maps the file once (fmap_open), hands ranges of it to a
 * stream socket (skiff_sendfile) and drops its reference; each piece of
 * the send queue holds one more, so the mapping lives until the last byte
 * that uses it is acknowledged.  The bytes are read once, when a segment
 * is built, straight into the frame.
 *
 * A file that shrinks while it is mapped turns reads of whole pages past
 * its new end into SIGBUS.  Reads go through fmap_guard_begin/end: a
 * process-wide SIGBUS handler maps a page of zeros over a faulting page of
 * the guarded mapping, marks the mapping lost and lets the read finish;
 * the reader then sees fmap_lost() and must not use what it read (TCP
 * aborts the connection, as a short sendfile() makes a server do).  A
 * fault anywhere else keeps SIGBUS's default action.  Bytes of the last
 * page before the new end read as zeros without a fault: what a reader
 * gets from a file changed under it is never consistent, only safe.
 *
 * References are not atomic: a mapping belongs to one stack (one worker).
 */
#ifndef SKIFF_FMAP_H
#define SKIFF_FMAP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct fmap {
	const uint8_t *base;
	size_t len;			/* bytes mapped: [0, len) of the file */
	uint32_t refs;
	volatile sig_atomic_t lost;	/* a read fell past the file's end */
};

/* Map [0, len) of fd read-only (the fd may be closed afterwards); NULL
 * (errno set) when len is 0, the file is shorter than len, or mmap fails. */
struct fmap *fmap_open(int fd, size_t len);

static inline struct fmap *fmap_get(struct fmap *fm)
{
	fm->refs++;
	return fm;
}

/* Drop a reference; the last one unmaps. */
void fmap_put(struct fmap *fm);

/* Reads of fm's bytes between these two are safe against truncation. */
void fmap_guard_begin(struct fmap *fm);
void fmap_guard_end(void);

static inline int fmap_lost(const struct fmap *fm)
{
	return fm->lost;
}

#endif /* SKIFF_FMAP_H */
