// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The pin directory (see pindir.h for the rules): resolving --pin-dir,
 * checking where it is and who can change it, proving that stale pins are a
 * previous skiffd's before removing them, and the owner map that is that
 * proof.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <bpf/bpf.h>

#include "dev/pindir.h"

#define BPFFS_DEFAULT	"/sys/fs/bpf"
#define OWNER_MAGIC	"skiffd pins v1"

/* The value of the owner map's only entry. */
struct pin_owner {
	char magic[16];
	char ifname[16];
	uint32_t created;	/* skiffd created the directory */
	uint32_t pid;		/* of the skiffd that pinned it (for people) */
};

/* ---- where ---- */

/* A name for the file system type f (for the "not on bpffs" message). */
static const char *fs_name(long f)
{
	switch ((unsigned long)f) {
	case EXT4_SUPER_MAGIC:
		return "ext2/3/4";
	case TMPFS_MAGIC:
		return "tmpfs";
	case OVERLAYFS_SUPER_MAGIC:
		return "overlayfs";
	case SYSFS_MAGIC:
		return "sysfs";
	case PROC_SUPER_MAGIC:
		return "procfs";
	case BTRFS_SUPER_MAGIC:
		return "btrfs";
	case XFS_SUPER_MAGIC:
		return "xfs";
	default:
		return NULL;
	}
}

static bool on_bpffs(const char *path)
{
	struct statfs sf;

	return !statfs(path, &sf) && (unsigned long)sf.f_type == BPF_FS_MAGIC;
}

/*
 * requested as an absolute path into out: relative to the working
 * directory, its longest existing prefix resolved by realpath() (symbolic
 * links, "." and ".."), the rest appended as given (no "." or ".." there).
 * *exist_len: the length of the existing prefix within out.
 */
static int resolve(const char *requested, char *out, size_t len, size_t *exist_len, char *err,
		   size_t errlen)
{
	char abs[PATH_MAX], head[PATH_MAX], real[PATH_MAX], cwd[PATH_MAX];
	const char *rest, *p;
	char *slash;
	size_t n;
	int ret;

	if (requested[0] == '/') {
		ret = snprintf(abs, sizeof(abs), "%s", requested);
	} else {
		if (!getcwd(cwd, sizeof(cwd))) {
			snprintf(err, errlen, "--pin-dir %s: cannot read the working directory: %s",
				 requested, strerror(errno));
			return -errno;
		}
		ret = snprintf(abs, sizeof(abs), "%s/%s", cwd, requested);
	}
	if (ret < 0 || (size_t)ret >= sizeof(abs))
		goto too_long;
	/* the longest prefix that exists */
	snprintf(head, sizeof(head), "%s", abs);
	while (!realpath(head, real)) {
		slash = strrchr(head, '/');
		if (!slash || slash == head) {
			snprintf(real, sizeof(real), "/");
			head[1] = '\0';
			break;
		}
		*slash = '\0';
	}
	rest = abs + strlen(head);
	/* what does not exist yet is created as written: no "." or ".." */
	for (p = rest; *p;) {
		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
			snprintf(err, errlen,
				 "--pin-dir %s: '.' or '..' in the part that does not exist yet (%s)",
				 requested, rest);
			return -EINVAL;
		}
		p += n;
	}
	*exist_len = strlen(real);
	while (*rest == '/')
		rest++;
	ret = snprintf(out, len, "%s%s%s", real, *rest && strcmp(real, "/") ? "/" : "", rest);
	if (ret < 0 || (size_t)ret >= len)
		goto too_long;
	/* no trailing '/' */
	n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	if (*exist_len > n)
		*exist_len = n;
	return 0;
too_long:
	snprintf(err, errlen, "--pin-dir %s: path too long", requested);
	return -ENAMETOOLONG;
}

static int refuse_not_bpffs(const char *requested, const char *path, const char *existing,
			    char *err, size_t errlen)
{
	struct statfs sf;
	const char *name = NULL;
	char fs[48];

	/* the usual place, not mounted: say how to mount it */
	if (!strncmp(path, BPFFS_DEFAULT "/", strlen(BPFFS_DEFAULT) + 1) &&
	    !on_bpffs(BPFFS_DEFAULT)) {
		snprintf(err, errlen,
			 "bpffs is not mounted at " BPFFS_DEFAULT ": run `mount -t bpf bpf "
			 BPFFS_DEFAULT "` (inside `ip netns exec` too: it gives a fresh /sys)");
		return -ENOENT;
	}
	if (!statfs(existing, &sf))
		name = fs_name(sf.f_type);
	if (name)
		snprintf(fs, sizeof(fs), "%s", name);
	else
		snprintf(fs, sizeof(fs), "a file system of type 0x%lx",
			 (unsigned long)sf.f_type);
	snprintf(err, errlen,
		 "--pin-dir %s%s%s%s is on %s, not on bpffs, and BPF maps can only be pinned on "
		 "bpffs: choose a directory under " BPFFS_DEFAULT "%s",
		 path, strcmp(requested, path) ? " (from " : "",
		 strcmp(requested, path) ? requested : "", strcmp(requested, path) ? ")" : "", fs,
		 on_bpffs(BPFFS_DEFAULT) ? "" : " (mount it first: `mount -t bpf bpf "
						BPFFS_DEFAULT "`)");
	return -EINVAL;
}

/*
 * Only root may change path: owned by root, not writable by group or others
 * (unless sticky and allow_sticky: then others cannot remove or rename
 * what root put there).  what names the path in the message.
 */
static int check_owner(const char *path, const char *what, bool allow_sticky, char *err,
		       size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		snprintf(err, errlen, "cannot stat %s %s: %s", what, path, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s %s is not a directory", what, path);
		return -ENOTDIR;
	}
	if (st.st_uid != 0) {
		snprintf(err, errlen,
			 "%s %s belongs to uid %u, not root: skiffd pins only where no one but "
			 "root can change the pins; use another directory (skiffd creates it), "
			 "or `chown root` it if it is root's",
			 what, path, (unsigned int)st.st_uid);
		return -EPERM;
	}
	if ((st.st_mode & 022) && !(allow_sticky && (st.st_mode & S_ISVTX))) {
		snprintf(err, errlen,
			 "%s %s is writable by %s (mode %04o): skiffd pins only where no one but "
			 "root can change the pins; run `chmod go-w %s` or use another directory",
			 what, path, (st.st_mode & 002) ? "others" : "its group",
			 (unsigned int)(st.st_mode & 07777), path);
		return -EPERM;
	}
	return 0;
}

/* ---- whose ---- */

/* The owner record pinned at dir/SKIFF_PIN_OWNER, if it is one.  0 or -errno. */
static int read_owner(const char *dir, struct pin_owner *o)
{
	struct bpf_map_info info;
	__u32 ilen = sizeof(info), key = 0;
	char path[PATH_MAX + 32];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, SKIFF_PIN_OWNER);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	ret = bpf_obj_get_info_by_fd(fd, &info, &ilen);
	if (!ret && (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != sizeof(*o) ||
		     strcmp(info.name, SKIFF_PIN_OWNER)))
		ret = -EINVAL;
	if (!ret)
		ret = bpf_map_lookup_elem(fd, &key, o) ? -errno : 0;
	close(fd);
	if (!ret && strncmp(o->magic, OWNER_MAGIC, sizeof(o->magic)))
		ret = -EINVAL;
	return ret;
}

/* Whether dir/name is a pinned map called name (as skiffd pins its maps). */
static bool is_our_map(const char *dir, const char *name, const char *const *names, int n)
{
	struct bpf_map_info info;
	__u32 ilen = sizeof(info);
	char path[PATH_MAX + 300];
	bool ours = false;
	int i, fd;

	for (i = 0; i < n && strcmp(names[i], name); i++)
		;
	if (i == n)
		return false;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	memset(&info, 0, sizeof(info));
	/* a pinned program's info would not carry the map's name there */
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		ours = !strncmp(info.name, name, sizeof(info.name) - 1);
	close(fd);
	return ours;
}

/*
 * An existing directory: empty (use it), or a previous skiffd's (remove its
 * pins: the owner map and maps with skiffd's names, nothing else), or
 * someone else's (refuse, touching nothing).
 */
static int clear_stale(struct pin_dir *pd, const char *const *names, int n_names, char *err,
		       size_t errlen)
{
	struct pin_owner owner;
	char foreign[NAME_MAX + 1] = "", first[NAME_MAX + 1] = "";
	struct dirent *de;
	int n = 0, removed = 0, has_owner;
	DIR *d;

	has_owner = !read_owner(pd->path, &owner);
	d = opendir(pd->path);
	if (!d) {
		snprintf(err, errlen, "cannot read --pin-dir %s: %s", pd->path, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!n++)
			snprintf(first, sizeof(first), "%s", de->d_name);
		if (has_owner && !strcmp(de->d_name, SKIFF_PIN_OWNER))
			continue;
		if (!foreign[0] && !is_our_map(pd->path, de->d_name, names, n_names))
			snprintf(foreign, sizeof(foreign), "%s", de->d_name);
	}
	if (!n) {
		closedir(d);
		return 0;	/* empty: ours to use, not to remove */
	}
	if (!has_owner || foreign[0]) {
		closedir(d);
		if (!has_owner)
			snprintf(err, errlen,
				 "--pin-dir %s already holds pins that skiffd cannot prove are its own "
				 "(no %s map; e.g. '%s'): skiffd removes nothing it did not make; "
				 "choose another directory, or remove them yourself if they are a "
				 "skiffd's",
				 pd->path, SKIFF_PIN_OWNER, foreign[0] ? foreign : first);
		else
			snprintf(err, errlen,
				 "--pin-dir %s holds '%s', which is not a skiffd map, beside a "
				 "previous skiffd's pins: skiffd removes nothing it did not make; "
				 "choose another directory",
				 pd->path, foreign);
		return -EEXIST;
	}
	/* a previous skiffd's (killed before it could clean up) */
	rewinddir(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, SKIFF_PIN_OWNER))
			continue;
		if (!unlinkat(dirfd(d), de->d_name, 0))
			removed++;
	}
	unlinkat(dirfd(d), SKIFF_PIN_OWNER, 0);
	closedir(d);
	pd->created = owner.created;	/* the previous run made it: ours to remove */
	fprintf(stderr, "skiffd: removed %d stale pins of a previous skiffd (pid %u) in %s\n",
		removed, owner.pid, pd->path);
	return 0;
}

int pin_dir_prepare(struct pin_dir *pd, const char *requested, const char *default_root,
		    const char *ifname, const char *const *names, int n_names, char *err,
		    size_t errlen)
{
	char want[PATH_MAX], existing[PATH_MAX], parent[PATH_MAX], *slash;
	size_t exist_len = 0;
	struct stat st;
	int ret;

	memset(pd, 0, sizeof(*pd));
	snprintf(pd->ifname, sizeof(pd->ifname), "%s", ifname);
	if (requested)
		ret = snprintf(want, sizeof(want), "%s", requested);
	else
		ret = snprintf(want, sizeof(want), "%s/%s", default_root, ifname);
	if (ret < 0 || (size_t)ret >= sizeof(want)) {
		snprintf(err, errlen, "pin directory name too long");
		return -ENAMETOOLONG;
	}
	if (!want[0]) {
		snprintf(err, errlen, "--pin-dir: empty path");
		return -EINVAL;
	}
	ret = resolve(want, pd->path, sizeof(pd->path), &exist_len, err, errlen);
	if (ret)
		return ret;
	snprintf(existing, sizeof(existing), "%.*s", (int)exist_len, pd->path);
	if (!on_bpffs(existing))
		return refuse_not_bpffs(want, pd->path, existing, err, errlen);
	/* the directory's parent, and the directory if it is there already */
	snprintf(parent, sizeof(parent), "%s", pd->path);
	slash = strrchr(parent, '/');
	if (slash == parent)
		parent[1] = '\0';
	else if (slash)
		*slash = '\0';
	if (!stat(parent, &st)) {
		ret = check_owner(parent, "the parent of --pin-dir", true, err, errlen);
		if (ret)
			return ret;
	} else {
		ret = check_owner(existing, "the nearest existing parent of --pin-dir", true, err,
				  errlen);
		if (ret)
			return ret;
	}
	if (lstat(pd->path, &st) < 0)
		return 0;	/* skiffd creates it in pin_dir_mark() */
	ret = check_owner(pd->path, "--pin-dir", false, err, errlen);
	if (ret)
		return ret;
	return clear_stale(pd, names, n_names, err, errlen);
}

/* mkdir -p; *created: whether the last component was made here. */
static int mkdir_p(const char *path, mode_t mode, bool *created)
{
	char buf[PATH_MAX], *p;

	*created = false;
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) == 0)
		*created = true;
	else if (errno != EEXIST)
		return -errno;
	return 0;
}

int pin_dir_mark(struct pin_dir *pd, char *err, size_t errlen)
{
	struct pin_owner o;
	char path[PATH_MAX + 32];
	bool created;
	__u32 key = 0;
	int ret, fd;

	ret = mkdir_p(pd->path, 0755, &created);
	if (ret) {
		snprintf(err, errlen, "cannot create pin directory %s: %s", pd->path,
			 strerror(-ret));
		return ret;
	}
	pd->created |= created;
	memset(&o, 0, sizeof(o));
	snprintf(o.magic, sizeof(o.magic), "%s", OWNER_MAGIC);
	snprintf(o.ifname, sizeof(o.ifname), "%s", pd->ifname);
	o.created = pd->created;
	o.pid = (uint32_t)getpid();
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, SKIFF_PIN_OWNER, sizeof(key), sizeof(o), 1, NULL);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot create the %s map: %s", SKIFF_PIN_OWNER,
			 strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/%s", pd->path, SKIFF_PIN_OWNER);
	ret = bpf_map_update_elem(fd, &key, &o, BPF_ANY) ? -errno : 0;
	if (!ret)
		ret = bpf_obj_pin(fd, path) ? -errno : 0;
	close(fd);	/* the pin holds it */
	if (ret) {
		snprintf(err, errlen, "cannot pin %s: %s", path, strerror(-ret));
		return ret;
	}
	pd->marked = true;
	return 0;
}

void pin_dir_release(struct pin_dir *pd, const char *default_root)
{
	char path[PATH_MAX + 32], parent[PATH_MAX], *slash;

	if (pd->marked) {
		snprintf(path, sizeof(path), "%s/%s", pd->path, SKIFF_PIN_OWNER);
		unlink(path);
		pd->marked = false;
	}
	if (!pd->created)
		return;
	rmdir(pd->path);	/* fails, and stays, if someone put something there */
	pd->created = false;
	snprintf(parent, sizeof(parent), "%s", pd->path);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (!strcmp(parent, default_root))
			rmdir(parent);	/* fails (and stays) while another interface uses it */
	}
}
