/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * TCP byte buffers: send and receive streams and the out-of-order queue,
 * built from fixed-size chunks of a per-stack pool.  Data is copied out of
 * UMEM frames on arrival, so frames are never held by slow readers, and an
 * idle connection holds no chunk at all (100k idle connections cost only
 * their struct).  Getting and returning a chunk is O(1) from a free list;
 * the pool grows in slabs up to its limit and never shrinks.
 */
#ifndef SKIFF_TCP_BUF_H
#define SKIFF_TCP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCP_CHUNK_DATA	2048	/* payload bytes per chunk */
#define TCP_FILE_CHUNK	32768	/* file bytes one chunk refers to, at most */
/*
 * A chunk of a send stream remembers when its bytes last left, in
 * TCP_CHUNK_SLOTS slots of equal size (256 bytes of a data chunk, 4 KiB of
 * a file chunk): RACK's per-segment transmit times (RFC 8985 6.1) without
 * an allocation per segment.
 */
#define TCP_CHUNK_SLOTS		8
#define TCP_SLOT_SHIFT_DATA	8
#define TCP_SLOT_SHIFT_FILE	12
#define TCP_SLOT_MAX		(1u << TCP_SLOT_SHIFT_FILE)	/* the largest slot */

struct fmap;

struct tcp_chunk;

struct tcp_chunk_pool {
	struct tcp_chunk *free;	/* free list */
	uint32_t n_total;	/* chunks allocated so far */
	uint32_t n_free;
	uint32_t max;		/* allocation limit (chunks) */
	void **slabs;		/* for fini */
	uint32_t n_slabs, cap_slabs;
};

int tcp_chunk_pool_init(struct tcp_chunk_pool *p, uint32_t max_chunks);
void tcp_chunk_pool_fini(struct tcp_chunk_pool *p);	/* every chunk must be back */
static inline uint32_t tcp_chunk_pool_in_use(const struct tcp_chunk_pool *p)
{
	return p->n_total - p->n_free;
}

/*
 * A byte stream: appended at the tail, read / peeked / dropped at the head.
 * cur/cur_pos remember where tcp_stream_copy_csum() stopped (the chunk and
 * the stream offset of its first byte), so a sender building consecutive
 * segments from a long send stream does not walk it from the head each
 * time; tcp_stream_drop() keeps it valid, NULL means none.
 */
struct tcp_stream {
	struct tcp_chunk *head;
	struct tcp_chunk *tail;
	uint32_t head_off;	/* bytes already consumed in head */
	uint32_t len;		/* bytes in the stream */
	struct tcp_chunk *cur;	/* a chunk of the stream, or NULL */
	uint32_t cur_pos;	/* offset of cur's first byte from the head */
	bool lost;		/* a mapped file shrank under a copy (fmap.h) */
};

/* Append up to len bytes; returns how many (fewer when the pool is out). */
size_t tcp_stream_append(struct tcp_chunk_pool *p, struct tcp_stream *s, const void *data,
			 size_t len);
/*
 * Append [off, off + len) of the mapped file fm by reference, up to
 * TCP_FILE_CHUNK bytes per chunk, each chunk holding a reference to fm;
 * returns how many bytes (fewer when the pool is out, 0 when the range is
 * not inside the mapping).  The bytes are read when copied out.
 */
size_t tcp_stream_append_file(struct tcp_chunk_pool *p, struct tcp_stream *s, struct fmap *fm,
			      uint64_t off, size_t len);
/* Copy len bytes starting off bytes after the head; returns bytes copied. */
size_t tcp_stream_peek(const struct tcp_stream *s, size_t off, void *dst, size_t len);
/*
 * tcp_stream_peek() for a sender: copy len bytes starting off bytes after
 * the head into dst and add their one's-complement sum (RFC 1071, as
 * csum_partial() of dst) to *sum.  Starts from the remembered position
 * when off is at or after it, so consecutive calls cost O(len), not
 * O(off).  Returns bytes copied; short, with s->lost set, when a mapped
 * file of the stream shrank under the copy (fmap.h).
 */
size_t tcp_stream_copy_csum(struct tcp_stream *s, size_t off, void *dst, size_t len,
			    uint32_t *sum);
/*
 * Transmit stamps of a send stream (RACK, RFC 8985): tcp_stream_stamp()
 * records ts for every slot [off, off + len) touches (a slot holds the
 * latest time any of its bytes left, so a segment's time read back is
 * never older than its own last transmission).  An iterator reads them in
 * increasing offsets: tcp_stamp_iter_get() returns the stamp of the slot
 * holding off and sets *slot_end to the stream offset where that slot
 * ends; 0 (and *slot_end = off + 1) beyond the stream.
 */
struct tcp_stamp_iter {
	const struct tcp_chunk *c;
	size_t pos;		/* stream offset of c's first valid byte */
};
void tcp_stream_stamp(struct tcp_stream *s, size_t off, size_t len, uint32_t ts);
void tcp_stamp_iter_start(const struct tcp_stream *s, size_t off, struct tcp_stamp_iter *it);
uint32_t tcp_stamp_iter_get(struct tcp_stamp_iter *it, size_t off, size_t *slot_end);
/*
 * Of the slots holding bytes of [off, off + len), the one whose bytes left
 * last (by time modulo 2^32, a tie to the later slot, RFC 8985's
 * RACK_sent_after): its stamp into *ts and where it ends, at most off +
 * len, into *slot_end.  One pass over the range's chunks, each chunk's
 * slots in one loop.  false: no byte of the range is in the stream.
 */
bool tcp_stream_stamp_latest(const struct tcp_stream *s, size_t off, size_t len, uint32_t *ts,
			     size_t *slot_end);
/*
 * Delivery rate records (draft-ietf-ccwg-bbr "Delivery Rate Samples"; Linux
 * keeps one per skb): a chunk of a send stream remembers the connection's
 * counters when its bytes first left.  One record per chunk, not per
 * segment: a segment acknowledged later in the chunk is measured from the
 * chunk's first transmission, over a longer interval, never a shorter one
 * (a sample is never too fast for it).  A retransmission keeps the record.
 */
struct tcp_rate_rec {
	uint32_t delivered;	/* C.delivered (bytes, mod 2^32) */
	uint32_t delivered_us;	/* C.delivered_time (µs, mod 2^32) */
	uint32_t first_send_us;	/* C.first_send_time */
	uint32_t sent_us;	/* when the record was taken */
	uint32_t tx_in_flight;	/* bytes in flight then, this transmission included */
	uint32_t lost;		/* C.lost (bytes, mod 2^32) */
};
/* Record r (app_limited: the sender was application-limited) for every
 * chunk of [off, off + len) that has none yet. */
void tcp_stream_rate_set(struct tcp_stream *s, size_t off, size_t len,
			 const struct tcp_rate_rec *r, bool app_limited);
/* The most recent record among the chunks of [off, off + len) into *best
 * and *app_limited, unless the one there already (*have) is more recent;
 * sets *have when it found one. */
void tcp_stream_rate_get(const struct tcp_stream *s, size_t off, size_t len,
			 struct tcp_rate_rec *best, bool *app_limited, bool *have);
/* Drop len bytes from the head (returns chunks to the pool). */
void tcp_stream_drop(struct tcp_chunk_pool *p, struct tcp_stream *s, size_t len);
/* peek + drop. */
size_t tcp_stream_read(struct tcp_chunk_pool *p, struct tcp_stream *s, void *dst, size_t len);
void tcp_stream_purge(struct tcp_chunk_pool *p, struct tcp_stream *s);

struct tcp_sack_block {
	uint32_t start;		/* first sequence number */
	uint32_t end;		/* one past the last */
};

struct tcp_ooo_seg;

/* Out-of-order queue: segments beyond RCV.NXT, kept sorted, merged, bounded. */
struct tcp_ooo {
	struct tcp_ooo_seg *head;
	uint32_t bytes;		/* payload bytes held */
	uint32_t nsegs;
};

/*
 * Keep [seq, seq+len) (after RCV.NXT); overlaps with what is held are
 * trimmed, adjacent ranges merged.  limit bounds ooo->bytes: what does not
 * fit is dropped (returns -ENOBUFS, the rest kept).  0 or -errno.
 */
int tcp_ooo_insert(struct tcp_chunk_pool *p, struct tcp_ooo *q, uint32_t seq, const void *data,
		   uint32_t len, uint32_t limit);
/* Move the bytes now in order at *rcv_nxt into s, advancing *rcv_nxt, and
 * free everything at or below it; returns bytes moved. */
uint32_t tcp_ooo_drain(struct tcp_chunk_pool *p, struct tcp_ooo *q, uint32_t *rcv_nxt,
		       struct tcp_stream *s);
/* The held ranges, lowest first; returns how many (<= max). */
int tcp_ooo_blocks(const struct tcp_ooo *q, struct tcp_sack_block *out, int max);
void tcp_ooo_purge(struct tcp_chunk_pool *p, struct tcp_ooo *q);

/* Sequence arithmetic (RFC 9293 3.4), modulo 2^32. */
static inline int tcp_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline int tcp_after(uint32_t a, uint32_t b)
{
	return tcp_before(b, a);
}

#endif /* SKIFF_TCP_BUF_H */
