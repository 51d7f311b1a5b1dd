/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The pin directory: where skiffd pins its maps (docs/security.md, "Pins").
 *
 * skiffd removes only pins it can prove are its own.  The proof is an
 * owner map, SKIFF_PIN_OWNER, that skiffd pins first in every directory it
 * uses: a one-entry array holding a magic string, the interface and whether
 * skiffd created the directory.  Only root can create a map and pin it in a
 * directory only root can write, so a directory holding a valid owner map
 * was set up by a skiffd.  Stale pins (a skiffd killed by SIGKILL) are
 * removed only when the owner map is there and every other entry is a map
 * whose name is one of skiffd's; anything else makes skiffd refuse the
 * directory without touching it.
 *
 * The directory is resolved to an absolute path (relative to the working
 * directory, symbolic links resolved), must be on bpffs, and it and its
 * parent must belong to root and be writable only by root (a sticky parent,
 * as a fresh bpffs mount is, may be writable by all).  Every refusal says
 * what is wrong and what to do.
 */
#ifndef SKIFF_PINDIR_H
#define SKIFF_PINDIR_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define SKIFF_PIN_OWNER "skiffd_owner"	/* pin and map name of the owner map */

struct pin_dir {
	char path[PATH_MAX];	/* absolute */
	char ifname[16];
	bool created;		/* skiffd made the directory (this run or the stale one) */
	bool marked;		/* the owner map is pinned */
};

/*
 * Resolve and check requested (NULL: default, "<root>/<ifname>"), then
 * remove the stale pins of a previous skiffd if the directory proves to be
 * its.  names[] are the names of skiffd's maps.  0, or -errno with a
 * one-line reason in err.
 */
int pin_dir_prepare(struct pin_dir *pd, const char *requested, const char *default_root,
		    const char *ifname, const char *const *names, int n_names, char *err,
		    size_t errlen);

/* Create the directory if needed and pin the owner map into it: call it
 * before pinning any other map.  0 or -errno with err. */
int pin_dir_mark(struct pin_dir *pd, char *err, size_t errlen);

/* After the maps are unpinned: remove the owner map, and the directory if
 * skiffd created it (and default_root, if then empty). */
void pin_dir_release(struct pin_dir *pd, const char *default_root);

#endif /* SKIFF_PINDIR_H */
