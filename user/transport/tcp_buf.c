// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TCP byte buffers: the chunk pool, byte streams and the out-of-order queue.
 *
 * A chunk carries up to TCP_CHUNK_DATA bytes at data[off, off + len).  A
 * stream is a list of chunks; appending fills the free space after the
 * tail's bytes, then takes new chunks; consuming at the head advances the
 * head's off and returns a chunk to the pool as soon as it is empty, so an
 * empty stream holds no chunk.
 *
 * The out-of-order queue is a list of segments sorted by sequence number,
 * never overlapping and never adjacent (adjacent ones are merged).  A
 * segment's descriptor lives in the header of its first chunk, so the queue
 * needs no allocator besides the chunk pool.  Merging two segments and
 * draining a segment into the receive stream move chunks instead of
 * copying bytes, except that a chunk small enough to fit in the free space
 * of the destination's tail is copied there and freed, which keeps runs of
 * small segments from pinning a chunk each.
 *
 * Every sequence comparison is modulo 2^32 (RFC 9293 3.4).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/csum.h"
#include "core/fmap.h"
#include "transport/tcp_buf.h"

#define TCP_SLAB_CHUNKS	64

/*
 * An out-of-order segment: [seq, seq + data.len).  It is stored in the
 * header of data.head, which stays the first chunk for as long as the
 * segment exists (nothing is dropped from the front of a queued segment).
 */
struct tcp_ooo_seg {
	struct tcp_ooo_seg *next;
	uint32_t seq;
	struct tcp_stream data;
};

/*
 * A chunk holds its bytes in data[], or (file) refers to
 * [file_off + off, file_off + off + len) of a mapped file: then data[] is
 * unused, the chunk is never appended to nor in an out-of-order queue, and
 * it holds a reference to the mapping until it goes back to the pool.
 */
struct tcp_chunk {
	struct tcp_chunk *next;
	uint16_t off;			/* first valid byte */
	uint16_t len;			/* valid bytes */
	bool file;			/* bytes in fm, not data[] */
	bool rate_valid;		/* send streams: rate holds the chunk's record */
	bool rate_app_limited;		/* ... taken while application-limited */
	union {
		struct tcp_ooo_seg seg;	/* only in the first chunk of an ooo segment */
		struct {
			struct fmap *fm;	/* file chunks only */
			uint64_t file_off;
			/* send streams: when each slot of the chunk's bytes
			 * last left (tcp_stream_stamp), in the header's room
			 * the out-of-order descriptor leaves free */
			uint32_t xmit[TCP_CHUNK_SLOTS];
			/* send streams: the delivery rate record of the
			 * chunk's first transmission (tcp_stream_rate_set) */
			struct tcp_rate_rec rate;
		};
	};
	uint8_t data[TCP_CHUNK_DATA];
};

_Static_assert(TCP_CHUNK_DATA <= UINT16_MAX, "chunk offsets are 16 bits");
/* The send-side records (stamps, rate record) outgrow the out-of-order
 * descriptor by at most 16 bytes: under 1% of a chunk. */
_Static_assert(sizeof(((struct tcp_chunk *)0)->xmit) + sizeof(struct tcp_rate_rec) +
			       2 * sizeof(void *) <=
		       sizeof(struct tcp_ooo_seg) + 16,
	       "send records grow the chunk header by 16 bytes at most");
_Static_assert(TCP_CHUNK_DATA / TCP_CHUNK_SLOTS == 1u << TCP_SLOT_SHIFT_DATA, "data slot size");
_Static_assert(TCP_FILE_CHUNK / TCP_CHUNK_SLOTS == 1u << TCP_SLOT_SHIFT_FILE, "file slot size");
_Static_assert(TCP_FILE_CHUNK <= UINT16_MAX, "chunk offsets are 16 bits");

/* ---- the pool ---- */

int tcp_chunk_pool_init(struct tcp_chunk_pool *p, uint32_t max_chunks)
{
	memset(p, 0, sizeof(*p));
	if (!max_chunks)
		return -EINVAL;
	p->max = max_chunks;
	return 0;
}

void tcp_chunk_pool_fini(struct tcp_chunk_pool *p)
{
	uint32_t i;

	for (i = 0; i < p->n_slabs; i++)
		free(p->slabs[i]);
	free(p->slabs);
	memset(p, 0, sizeof(*p));
}

/* One more slab on the free list; -ENOMEM at the limit or without memory. */
static int tcp_chunk_pool_grow(struct tcp_chunk_pool *p)
{
	uint32_t n = p->max - p->n_total, i;
	struct tcp_chunk *slab;

	if (!n)
		return -ENOMEM;
	if (n > TCP_SLAB_CHUNKS)
		n = TCP_SLAB_CHUNKS;
	if (p->n_slabs == p->cap_slabs) {
		uint32_t cap = p->cap_slabs ? p->cap_slabs * 2 : 16;
		void **s = realloc(p->slabs, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		p->slabs = s;
		p->cap_slabs = cap;
	}
	slab = malloc((size_t)n * sizeof(*slab));
	if (!slab)
		return -ENOMEM;
	p->slabs[p->n_slabs++] = slab;
	for (i = 0; i < n; i++) {
		slab[i].next = p->free;
		p->free = &slab[i];
	}
	p->n_total += n;
	p->n_free += n;
	return 0;
}

/* inline: it is on the path of every byte appended */
static inline __attribute__((always_inline)) struct tcp_chunk *
tcp_chunk_get(struct tcp_chunk_pool *p)
{
	struct tcp_chunk *c = p->free;

	if (!c) {
		if (tcp_chunk_pool_grow(p))
			return NULL;
		c = p->free;
	}
	p->free = c->next;
	p->n_free--;
	c->next = NULL;
	c->off = 0;
	c->len = 0;
	c->file = false;
	c->rate_valid = false;
	return c;
}

static void tcp_chunk_put(struct tcp_chunk_pool *p, struct tcp_chunk *c)
{
	if (c->file) {
		fmap_put(c->fm);
		c->file = false;
	}
	c->next = p->free;
	p->free = c;
	p->n_free++;
}

/* ---- streams ---- */

static uint32_t chunk_room(const struct tcp_chunk *c)
{
	return c->file ? 0 : TCP_CHUNK_DATA - c->off - c->len;
}

/* The chunk's first valid byte. */
static const uint8_t *chunk_bytes(const struct tcp_chunk *c)
{
	return c->file ? c->fm->base + c->file_off + c->off : c->data + c->off;
}

size_t tcp_stream_append(struct tcp_chunk_pool *p, struct tcp_stream *s, const void *data,
			 size_t len)
{
	const uint8_t *src = data;
	size_t done = 0;

	if (len > UINT32_MAX - s->len)	/* s->len is 32 bits */
		len = UINT32_MAX - s->len;
	while (done < len) {
		struct tcp_chunk *c = s->tail;
		size_t n;

		if (!c || !chunk_room(c)) {
			c = tcp_chunk_get(p);
			if (!c)
				break;
			memset(c->xmit, 0, sizeof(c->xmit));
			if (s->tail)
				s->tail->next = c;
			else
				s->head = c;
			s->tail = c;
		}
		n = chunk_room(c);
		if (n > len - done)
			n = len - done;
		memcpy(c->data + c->off + c->len, src + done, n);
		c->len += n;
		done += n;
	}
	s->len += done;
	return done;
}

size_t tcp_stream_append_file(struct tcp_chunk_pool *p, struct tcp_stream *s, struct fmap *fm,
			      uint64_t off, size_t len)
{
	size_t done = 0;

	if (off > fm->len || len > fm->len - off)
		return 0;
	if (len > UINT32_MAX - s->len)
		len = UINT32_MAX - s->len;
	while (done < len) {
		struct tcp_chunk *c = tcp_chunk_get(p);
		size_t n = len - done < TCP_FILE_CHUNK ? len - done : TCP_FILE_CHUNK;

		if (!c)
			break;
		c->file = true;
		memset(c->xmit, 0, sizeof(c->xmit));
		c->fm = fmap_get(fm);
		c->file_off = off + done;
		c->len = (uint16_t)n;
		if (s->tail)
			s->tail->next = c;
		else
			s->head = c;
		s->tail = c;
		done += n;
	}
	s->len += (uint32_t)done;
	return done;
}

size_t tcp_stream_peek(const struct tcp_stream *s, size_t off, void *dst, size_t len)
{
	const struct tcp_chunk *c = s->head;
	uint8_t *out = dst;
	size_t done = 0;

	if (off >= s->len)
		return 0;
	if (len > s->len - off)
		len = s->len - off;
	while (c && off >= c->len) {
		off -= c->len;
		c = c->next;
	}
	while (c && done < len) {
		size_t n = c->len - off;

		if (n > len - done)
			n = len - done;
		if (c->file)
			fmap_guard_begin(c->fm);
		memcpy(out + done, chunk_bytes(c) + off, n);
		if (c->file)
			fmap_guard_end();
		done += n;
		off = 0;
		c = c->next;
	}
	return done;
}

/*
 * One's-complement sum of n bytes copied from src to dst, as csum_partial()
 * of dst gives it (unfolded, 32 bits): the sum reads dst while it is in L1.
 */
static inline uint32_t copy_csum(uint8_t *dst, const uint8_t *src, size_t n)
{
	memcpy(dst, src, n);
	return csum_partial(dst, n, 0);
}

/* One's-complement addition of two unfolded 32-bit sums. */
static uint32_t csum_add32(uint32_t a, uint32_t b)
{
	a += b;
	return a + (a < b);
}

size_t tcp_stream_copy_csum(struct tcp_stream *s, size_t off, void *dst, size_t len,
			    uint32_t *sum)
{
	const struct tcp_chunk *c = s->head;
	uint8_t *out = dst;
	size_t done = 0, pos = 0;
	uint32_t part, acc = *sum;

	if (off >= s->len)
		return 0;
	if (len > s->len - off)
		len = s->len - off;
	if (s->cur && s->cur_pos <= off) {
		c = s->cur;
		pos = s->cur_pos;
	}
	while (c && off >= pos + c->len) {
		pos += c->len;
		c = c->next;
	}
	off -= pos;
	while (c && done < len) {
		size_t n = c->len - off;

		if (n > len - done)
			n = len - done;
		if (c->file) {
			fmap_guard_begin(c->fm);
			part = copy_csum(out + done, chunk_bytes(c) + off, n);
			fmap_guard_end();
			if (fmap_lost(c->fm)) {
				s->lost = true;	/* the file shrank: these bytes are not its */
				return done;
			}
		} else {
			part = copy_csum(out + done, c->data + c->off + off, n);
		}
		/* a piece at an odd offset of dst has its bytes swapped in
		 * 16-bit words: rotate its sum by 8 (as Linux's csum_block_add) */
		if (done & 1)
			part = (part >> 8) | (part << 24);
		acc = csum_add32(acc, part);
		done += n;
		/* remember the chunk the next segment starts in */
		s->cur = (struct tcp_chunk *)c;
		s->cur_pos = (uint32_t)pos;
		if (done < len) {
			pos += c->len;
			off = 0;
			c = c->next;
		}
	}
	*sum = acc;
	return done;
}

/* ---- transmit stamps (send streams) ---- */

static unsigned int chunk_slot_shift(const struct tcp_chunk *c)
{
	return c->file ? TCP_SLOT_SHIFT_FILE : TCP_SLOT_SHIFT_DATA;
}

void tcp_stamp_iter_start(const struct tcp_stream *s, size_t off, struct tcp_stamp_iter *it)
{
	const struct tcp_chunk *c = s->head;
	size_t pos = 0;

	if (s->cur && s->cur_pos <= off) {
		c = s->cur;
		pos = s->cur_pos;
	}
	while (c && off >= pos + c->len) {
		pos += c->len;
		c = c->next;
	}
	it->c = c;
	it->pos = pos;
}

uint32_t tcp_stamp_iter_get(struct tcp_stamp_iter *it, size_t off, size_t *slot_end)
{
	const struct tcp_chunk *c = it->c;
	size_t pos = it->pos, idx, end;
	unsigned int sh;

	while (c && off >= pos + c->len) {
		pos += c->len;
		c = c->next;
	}
	it->c = c;
	it->pos = pos;
	if (!c) {
		*slot_end = off + 1;
		return 0;
	}
	sh = chunk_slot_shift(c);
	idx = c->off + (off - pos);
	end = ((idx >> sh) + 1) << sh;
	if (end > (size_t)c->off + c->len)
		end = (size_t)c->off + c->len;
	*slot_end = pos + (end - c->off);
	return c->xmit[idx >> sh];
}

/* The slots of chunk c (stream offset of its first valid byte: pos) that
 * hold bytes of [off, end): indexes [*first, *last]. */
static void chunk_slots(const struct tcp_chunk *c, size_t pos, size_t off, size_t end,
			size_t *first, size_t *last)
{
	unsigned int sh = chunk_slot_shift(c);
	size_t a = off > pos ? off - pos : 0, b = end - pos;

	if (!c->len) {
		*first = 1; /* nothing: an empty loop */
		*last = 0;
		return;
	}
	if (b > c->len)
		b = c->len;
	*first = (c->off + a) >> sh;
	*last = (c->off + b - 1) >> sh;
}

void tcp_stream_stamp(struct tcp_stream *s, size_t off, size_t len, uint32_t ts)
{
	struct tcp_stamp_iter it;
	struct tcp_chunk *c;
	size_t end = off + len, pos, i, last;

	if (!len)
		return;
	tcp_stamp_iter_start(s, off, &it);
	/* a chunk at a time: its slots in one loop, no lookup per slot */
	for (c = (struct tcp_chunk *)it.c, pos = it.pos; c && pos < end; pos += c->len, c = c->next) {
		chunk_slots(c, pos, off, end, &i, &last);
		for (; i <= last; i++)
			c->xmit[i] = ts;
	}
}

bool tcp_stream_stamp_latest(const struct tcp_stream *s, size_t off, size_t len, uint32_t *ts,
			     size_t *slot_end)
{
	const struct tcp_chunk *c;
	struct tcp_stamp_iter it;
	size_t end = off + len, pos, i, last, best_i = 0;
	const struct tcp_chunk *best_c = NULL;
	size_t best_pos = 0;
	uint32_t best = 0;

	if (!len)
		return false;
	tcp_stamp_iter_start(s, off, &it);
	for (c = it.c, pos = it.pos; c && pos < end; pos += c->len, c = c->next) {
		chunk_slots(c, pos, off, end, &i, &last);
		for (; i <= last; i++) {
			/* in increasing offsets: a tie goes to the later slot */
			if (!best_c || (int32_t)(c->xmit[i] - best) >= 0) {
				best = c->xmit[i];
				best_c = c;
				best_i = i;
				best_pos = pos;
			}
		}
	}
	if (!best_c)
		return false;
	i = ((best_i + 1) << chunk_slot_shift(best_c)) - best_c->off;
	if (i > best_c->len)
		i = best_c->len;
	i += best_pos;
	*slot_end = i < end ? i : end;
	*ts = best;
	return true;
}

/* The chunks of s that hold bytes of [off, off + len), in order: fn for
 * each (the stream offset of its first valid byte in *pos). */
#define for_each_chunk_in(s, off, len, c, pos)                                         \
	for ((pos) = 0, (c) = (s)->head; (c) && (pos) < (off) + (len); (pos) += (c)->len, \
	    (c) = (c)->next)                                                              \
		if ((pos) + (c)->len > (off))

void tcp_stream_rate_set(struct tcp_stream *s, size_t off, size_t len,
			 const struct tcp_rate_rec *r, bool app_limited)
{
	struct tcp_chunk *c;
	size_t pos;

	for_each_chunk_in(s, off, len, c, pos) {
		if (!c->rate_valid) {
			c->rate = *r;
			c->rate_valid = true;
			c->rate_app_limited = app_limited;
		}
	}
}

void tcp_stream_rate_get(const struct tcp_stream *s, size_t off, size_t len,
			 struct tcp_rate_rec *best, bool *app_limited, bool *have)
{
	const struct tcp_chunk *c;
	size_t pos;

	for_each_chunk_in(s, off, len, c, pos) {
		if (!c->rate_valid)
			continue;
		/* the record taken last (the most recently sent, draft-ietf-
		 * ccwg-bbr's "P"): the largest delivered count, then time */
		if (!*have || (int32_t)(c->rate.delivered - best->delivered) > 0 ||
		    (c->rate.delivered == best->delivered &&
		     (int32_t)(c->rate.sent_us - best->sent_us) > 0)) {
			*best = c->rate;
			*app_limited = c->rate_app_limited;
			*have = true;
		}
	}
}

void tcp_stream_drop(struct tcp_chunk_pool *p, struct tcp_stream *s, size_t len)
{
	size_t dropped;

	if (len > s->len)
		len = s->len;
	dropped = len;
	s->len -= len;
	while (len) {
		struct tcp_chunk *c = s->head;
		size_t n = c->len < len ? c->len : len;

		c->off += n;
		c->len -= n;
		len -= n;
		if (!c->len) {
			s->head = c->next;
			if (!s->head)
				s->tail = NULL;
			if (s->cur == c)
				s->cur = NULL;
			tcp_chunk_put(p, c);
		}
	}
	s->head_off = s->head ? s->head->off : 0;
	/* the remembered chunk is still in the stream: every byte dropped
	 * was before it, or it is the head now (its first byte at 0) */
	if (s->cur)
		s->cur_pos = s->cur == s->head ? 0 : s->cur_pos - (uint32_t)dropped;
}

size_t tcp_stream_read(struct tcp_chunk_pool *p, struct tcp_stream *s, void *dst, size_t len)
{
	size_t n = tcp_stream_peek(s, 0, dst, len);

	tcp_stream_drop(p, s, n);
	return n;
}

void tcp_stream_purge(struct tcp_chunk_pool *p, struct tcp_stream *s)
{
	struct tcp_chunk *c = s->head;

	while (c) {
		struct tcp_chunk *next = c->next;

		tcp_chunk_put(p, c);
		c = next;
	}
	memset(s, 0, sizeof(*s));
}

/*
 * Move every chunk of src to the end of dst (src ends empty).  A chunk whose
 * bytes fit in the free space of dst's tail is copied there and freed.
 */
static void tcp_stream_splice(struct tcp_chunk_pool *p, struct tcp_stream *dst,
			      struct tcp_stream *src)
{
	struct tcp_chunk *c = src->head;

	while (c) {
		struct tcp_chunk *next = c->next;

		if (dst->tail && c->len <= chunk_room(dst->tail)) {
			struct tcp_chunk *t = dst->tail;

			memcpy(t->data + t->off + t->len, c->data + c->off, c->len);
			t->len += c->len;
			tcp_chunk_put(p, c);
		} else {
			c->next = NULL;
			if (dst->tail)
				dst->tail->next = c;
			else
				dst->head = c;
			dst->tail = c;
		}
		c = next;
	}
	dst->len += src->len;
	dst->head_off = dst->head ? dst->head->off : 0;
	memset(src, 0, sizeof(*src));
}

/* ---- the out-of-order queue ---- */

static uint32_t seg_end(const struct tcp_ooo_seg *g)
{
	return g->seq + g->data.len;
}

/*
 * How many separate ranges the queue may hold for a byte limit.  Each one
 * pins at least one chunk however few bytes it holds, so without this a
 * peer sending one-byte segments with gaps between them would tie up a
 * chunk per byte.  With it the chunks held stay within about twice what
 * the byte limit alone would cost.
 */
static uint32_t ooo_max_segs(uint32_t limit)
{
	return limit / (TCP_CHUNK_DATA / 2) + 8;
}

/*
 * Queue the new bytes [seq, seq + len), which overlap nothing held, at the
 * link *pp; prev is the segment before it (or NULL), next_seq the start of
 * the segment after it (valid when has_next).  Returns 0, or -ENOBUFS when
 * only part (maybe none) of it was kept.
 */
static int ooo_add(struct tcp_chunk_pool *p, struct tcp_ooo *q, struct tcp_ooo_seg **pp,
		   struct tcp_ooo_seg *prev, bool has_next, uint32_t next_seq, uint32_t seq,
		   const uint8_t *data, uint32_t len, uint32_t limit)
{
	struct tcp_ooo_seg *g;
	struct tcp_chunk *c;
	uint32_t n = len;
	size_t got;

	if (q->bytes >= limit)
		return -ENOBUFS;
	if (n > limit - q->bytes)
		n = limit - q->bytes;

	/* Extends the segment before it: append in place. */
	if (prev && seg_end(prev) == seq) {
		got = tcp_stream_append(p, &prev->data, data, n);
		q->bytes += got;
		return got == len ? 0 : -ENOBUFS;
	}

	/* A new range, unless it will merge with the one after it. */
	if (q->nsegs >= ooo_max_segs(limit) && !(has_next && n == len && seq + len == next_seq))
		return -ENOBUFS;
	c = tcp_chunk_get(p);
	if (!c)
		return -ENOBUFS;
	g = &c->seg;
	memset(g, 0, sizeof(*g));
	g->seq = seq;
	g->data.head = g->data.tail = c;
	got = tcp_stream_append(p, &g->data, data, n);	/* fills c first: got > 0 */
	g->next = *pp;
	*pp = g;
	q->nsegs++;
	q->bytes += got;
	return got == len ? 0 : -ENOBUFS;
}

/* Merge every pair of adjacent segments. */
static void ooo_merge(struct tcp_chunk_pool *p, struct tcp_ooo *q)
{
	struct tcp_ooo_seg *g;

	for (g = q->head; g; g = g->next) {
		while (g->next && seg_end(g) == g->next->seq) {
			struct tcp_ooo_seg *n = g->next;
			/* n lives in its first chunk, which the splice moves or frees. */
			struct tcp_stream data = n->data;

			g->next = n->next;
			tcp_stream_splice(p, &g->data, &data);
			q->nsegs--;
		}
	}
}

int tcp_ooo_insert(struct tcp_chunk_pool *p, struct tcp_ooo *q, uint32_t seq, const void *data,
		   uint32_t len, uint32_t limit)
{
	const uint8_t *bytes = data;
	struct tcp_ooo_seg **pp = &q->head, *prev = NULL;
	uint32_t end = seq + len, cur = seq;
	int ret = 0;

	if (!len)
		return 0;
	if (len > INT32_MAX)	/* not a range sequence arithmetic can order */
		return -EINVAL;
	/* Walk the held segments; queue the pieces of [seq, end) between them. */
	while (*pp && tcp_before(cur, end)) {
		struct tcp_ooo_seg *g = *pp;
		uint32_t gs = g->seq, ge = seg_end(g);

		if (!tcp_after(ge, cur)) {	/* g ends at or before cur */
			prev = g;
			pp = &g->next;
			continue;
		}
		if (!tcp_before(gs, end))	/* g starts at or after end */
			break;
		if (tcp_before(cur, gs)) {
			ret = ooo_add(p, q, pp, prev, true, gs, cur, bytes + (cur - seq), gs - cur,
				      limit);
			if (ret)
				goto out;
		}
		cur = ge;
		/* The new piece (if any) sits before g; g is now the previous. */
		prev = g;
		pp = &g->next;
	}
	if (tcp_before(cur, end))
		ret = ooo_add(p, q, pp, prev, *pp != NULL, *pp ? (*pp)->seq : 0, cur,
			      bytes + (cur - seq), end - cur, limit);
out:
	ooo_merge(p, q);
	return ret;
}

uint32_t tcp_ooo_drain(struct tcp_chunk_pool *p, struct tcp_ooo *q, uint32_t *rcv_nxt,
		       struct tcp_stream *s)
{
	uint32_t moved = 0;

	while (q->head && !tcp_after(q->head->seq, *rcv_nxt)) {
		struct tcp_ooo_seg *g = q->head;
		/* g lives in its first chunk, which the drop may free: copy it. */
		struct tcp_stream data = g->data;
		uint32_t gs = g->seq, ge = seg_end(g);

		q->head = g->next;
		q->nsegs--;
		q->bytes -= data.len;
		if (tcp_after(ge, *rcv_nxt)) {
			uint32_t n = ge - *rcv_nxt;

			tcp_stream_drop(p, &data, *rcv_nxt - gs);
			tcp_stream_splice(p, s, &data);
			*rcv_nxt = ge;
			moved += n;
		} else {
			tcp_stream_purge(p, &data);
		}
	}
	return moved;
}

int tcp_ooo_blocks(const struct tcp_ooo *q, struct tcp_sack_block *out, int max)
{
	const struct tcp_ooo_seg *g;
	int n = 0;

	for (g = q->head; g && n < max; g = g->next) {
		out[n].start = g->seq;
		out[n].end = seg_end(g);
		n++;
	}
	return n;
}

void tcp_ooo_purge(struct tcp_chunk_pool *p, struct tcp_ooo *q)
{
	struct tcp_ooo_seg *g = q->head;

	while (g) {
		struct tcp_ooo_seg *next = g->next;
		struct tcp_stream data = g->data;

		tcp_stream_purge(p, &data);
		g = next;
	}
	memset(q, 0, sizeof(*q));
}
