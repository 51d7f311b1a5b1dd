# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Sourced by scripts/demo.sh and scripts/test.sh before they touch namespaces.
#
# iproute2's `ip netns exec` and `ip -n NS` enter a private mount namespace
# and make "/" a slave mount there; when "/" is not a mount point -- a chroot
# such as a debootstrap root, where the root is a plain directory -- that
# fails with EINVAL ('"mount --make-rslave /" failed: Invalid argument') and
# no namespace can be used.  skiff_root_mount re-runs the calling script in
# a new mount namespace whose "/" is a bind mount of the current root, so
# the same commands work there.  On a normal machine ("/" is a mount point)
# it does nothing.  Mounts made inside (ip netns add) stay in that
# namespace's copy of the root, unmounted again at the end.
#
#   skiff_root_mount "$0" "$@"    # returns only when nothing had to be done

skiff_root_mount() {
	# mountinfo lists the mounts visible from our root; field 5 is the
	# mount point relative to it
	awk '$5 == "/" { f = 1 } END { exit !f }' /proc/self/mountinfo && return 0
	[ "$(id -u)" -eq 0 ] || return 0 # only root uses namespaces
	if [ -n "${SKIFF_ROOT_MOUNTED:-}" ]; then
		echo "skiff: / is still not a mount point after re-mounting it; namespaces will fail" >&2
		return 0
	fi
	echo "skiff: / is not a mount point (a chroot?): re-running in a mount namespace where it is" >&2
	# `unshare --propagation` cannot be used: it changes "/" too.  The
	# wrapper shell unmounts the bind mount when the script is done, which
	# also removes any copy a shared parent mount propagated outside.
	# shellcheck disable=SC2016 # expanded by the inner shell
	exec unshare --mount --propagation unchanged -- /bin/sh -c '
		d=$(mktemp -d /tmp/skiff-root.XXXXXX) || exit 1
		mount --rbind / "$d" || { rmdir "$d"; exit 1; }
		trap : INT TERM # the script handles them (a caught signal is not inherited)
		chroot "$d" /usr/bin/env SKIFF_ROOT_MOUNTED=1 /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$@"
		rc=$?
		umount -R -l "$d" && rmdir "$d"
		exit $rc
	' skiff-root-mount "$PWD" "$@"
}
