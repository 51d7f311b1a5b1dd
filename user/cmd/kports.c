// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Kernel sockets that already hold a port skiff is about to take.
 *
 * On an address shared with the kernel, XDP steers every frame for a port
 * skiff owns to skiff, so a kernel socket bound to the same port would go
 * silent without any error.  Before serving a port on a shared address,
 * skiffd asks the kernel (NETLINK_SOCK_DIAG, as `ss` does) for TCP
 * listeners and bound UDP sockets on that port in its network namespace,
 * and names the process holding one (its /proc/PID/fd entries, as
 * `ss -p` does).
 */
#include <dirent.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd/kports.h"

#define TCP_LISTEN_STATE 10 /* include/net/tcp_states.h: TCP_LISTEN */

struct kport_query {
	int proto;	/* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t addr;	/* network order; 0: any address */
	uint16_t port;	/* host order */
};

/* Does one diag message describe a socket that receives what q would? */
static bool diag_matches(const struct inet_diag_msg *m, size_t len, const struct kport_query *q)
{
	const struct rtattr *rta;
	size_t rlen;
	uint32_t src;

	if (ntohs(m->id.idiag_sport) != q->port)
		return false;
	if (m->idiag_family == AF_INET) {
		src = m->id.idiag_src[0];
		return !src || !q->addr || src == q->addr;
	}
	/* AF_INET6: a wildcard socket takes IPv4 too unless IPV6_V6ONLY is set;
	 * a v4-mapped address (::ffff:a.b.c.d) is an IPv4 one */
	if (m->id.idiag_src[0] == 0 && m->id.idiag_src[1] == 0 &&
	    m->id.idiag_src[2] == htonl(0xffff)) {
		src = m->id.idiag_src[3];
		return !src || !q->addr || src == q->addr;
	}
	if (m->id.idiag_src[0] | m->id.idiag_src[1] | m->id.idiag_src[2] | m->id.idiag_src[3])
		return false;
	rlen = len - NLMSG_ALIGN(sizeof(*m));
	for (rta = (const struct rtattr *)((const char *)m + NLMSG_ALIGN(sizeof(*m)));
	     RTA_OK(rta, rlen); rta = RTA_NEXT(rta, rlen))
		if (rta->rta_type == INET_DIAG_SKV6ONLY && RTA_PAYLOAD(rta) >= 1 &&
		    *(const uint8_t *)RTA_DATA(rta))
			return false;
	return true;
}

/* Dump one family's sockets of q->proto; the inode of the first match. */
static int diag_find(int family, const struct kport_query *q, uint32_t *inode)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	bool found = false;
	int fd, ret = 0;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.req.sdiag_family = (uint8_t)family;
	msg.req.sdiag_protocol = (uint8_t)q->proto;
	msg.req.idiag_states = q->proto == IPPROTO_TCP ? 1u << TCP_LISTEN_STATE : ~0u;
	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		struct nlmsghdr *h;
		size_t left;

		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		left = (size_t)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				/* a family or protocol the kernel lacks holds nothing */
				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error &&
				    e->error != -ENOENT && e->error != -EINVAL)
					ret = e->error;
				goto out;
			}
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
				continue;
			if (diag_matches(NLMSG_DATA(h), h->nlmsg_len - NLMSG_LENGTH(0), q)) {
				*inode = ((const struct inet_diag_msg *)NLMSG_DATA(h))->idiag_inode;
				found = true;
				goto out; /* closing the socket drops the rest of the dump */
			}
		}
		if (n == 0)
			goto out;
	}
out:
	close(fd);
	return ret < 0 ? ret : found;
}

/* "comm (pid N)" of a process holding socket inode, or "an unknown process". */
static void inode_owner(uint32_t inode, char *who, size_t wholen)
{
	char path[64], link[64], want[32], comm[32] = "";
	struct dirent *p, *f;
	DIR *proc, *fds;
	FILE *cf;
	ssize_t n;

	snprintf(who, wholen, "a process skiffd cannot see");
	snprintf(want, sizeof(want), "socket:[%u]", inode);
	proc = opendir("/proc");
	if (!proc)
		return;
	while ((p = readdir(proc))) {
		if (p->d_name[0] < '1' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/fd", p->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((f = readdir(fds))) {
			snprintf(path, sizeof(path), "/proc/%.20s/fd/%.20s", p->d_name, f->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, want))
				continue;
			snprintf(path, sizeof(path), "/proc/%.20s/comm", p->d_name);
			cf = fopen(path, "re");
			if (cf) {
				if (fgets(comm, sizeof(comm), cf))
					comm[strcspn(comm, "\n")] = '\0';
				fclose(cf);
			}
			snprintf(who, wholen, "%s (pid %s)", comm[0] ? comm : "?", p->d_name);
			closedir(fds);
			closedir(proc);
			return;
		}
		closedir(fds);
	}
	closedir(proc);
}

int kport_find(int proto, uint32_t addr, uint16_t port, char *who, size_t wholen)
{
	const struct kport_query q = {.proto = proto, .addr = addr, .port = port};
	uint32_t inode = 0;
	int ret;

	ret = diag_find(AF_INET, &q, &inode);
	if (ret == 0)
		ret = diag_find(AF_INET6, &q, &inode);
	if (ret > 0 && who && wholen)
		inode_owner(inode, who, wholen);
	return ret;
}
