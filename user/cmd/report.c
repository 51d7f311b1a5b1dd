// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Formatting of skiffd's control answers (see report.h).  Text is for
 * people: aligned columns, zero drop reasons and AF_XDP socket counters left
 * out.  JSON is for scripts: every counter, always the same keys, numbers as
 * numbers.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "cmd/report.h"

#define XDP_CTR(name) { #name, offsetof(struct skiff_xdp_stats, name) },
const struct report_counter report_xdp_counters[] = {
	SKIFF_XDP_COUNTERS(XDP_CTR)
};
const size_t report_n_xdp_counters = sizeof(report_xdp_counters) / sizeof(report_xdp_counters[0]);

#define U_CTR(name) { #name, offsetof(struct skiff_ustats, name) },
const struct report_counter report_ustats_counters[] = {
	SKIFF_USTATS_DEV(U_CTR)
	SKIFF_USTATS_LINK(U_CTR)
	SKIFF_USTATS_NET(U_CTR)
	SKIFF_USTATS_TRANSPORT(U_CTR)
	SKIFF_USTATS_APPS(U_CTR)
};
const size_t report_n_ustats_counters =
	sizeof(report_ustats_counters) / sizeof(report_ustats_counters[0]);

#define D_CTR(name) { #name, offsetof(struct skiff_ustats, drop.name) },
const struct report_counter report_drop_counters[] = {
	SKIFF_DROPS(D_CTR)
};
const size_t report_n_drop_counters = sizeof(report_drop_counters) / sizeof(report_drop_counters[0]);

/* in the kernel's order (struct xdp_statistics): n_fields counts from here */
#define K_CTR(name) { #name, offsetof(struct xsk_kernel_stats, name) }
const struct report_counter report_xsk_counters[] = {
	K_CTR(rx_dropped),
	K_CTR(rx_invalid_descs),
	K_CTR(tx_invalid_descs),
	K_CTR(rx_ring_full),
	K_CTR(rx_fill_ring_empty_descs),
	K_CTR(tx_ring_empty_descs),
};
const size_t report_n_xsk_counters = sizeof(report_xsk_counters) / sizeof(report_xsk_counters[0]);

void report_ustats_add(struct skiff_ustats *sum, const struct skiff_ustats *add)
{
	size_t i;

	for (i = 0; i < report_n_ustats_counters; i++)
		*(uint64_t *)((char *)sum + report_ustats_counters[i].offset) +=
			report_get(add, &report_ustats_counters[i]);
	for (i = 0; i < report_n_drop_counters; i++)
		*(uint64_t *)((char *)sum + report_drop_counters[i].offset) +=
			report_get(add, &report_drop_counters[i]);
}

static const char *ip_str(uint32_t addr, char *buf)
{
	return inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN);
}

void report_pmtu(struct strbuf *sb, const struct report_pmtu *p, int count, const char *dev,
		 bool json)
{
	char d[INET6_ADDRSTRLEN];
	int i;

	if (json)
		sb_puts(sb, "{\"pmtu\": [");
	for (i = 0; i < count; i++) {
		unsigned long long exp = (unsigned long long)(p[i].expires_ns / 1000000000ull);

		inet_ntop(AF_INET6, &p[i].dst, d, sizeof(d));
		if (json) {
			sb_printf(sb, "{\"dst\": \"%s\", \"dev\": ", d);
			sb_json_str(sb, dev);
			sb_printf(sb, ", \"mtu\": %u, \"expires\": %llu, \"worker\": %d},", p[i].mtu,
				  exp, p[i].worker);
		} else {
			sb_printf(sb, "%s dev %s mtu %u expires %llusec worker %d\n", d, dev, p[i].mtu,
				  exp, p[i].worker);
		}
	}
	if (json) {
		sb_trim_comma(sb);
		sb_puts(sb, "]}\n");
	} else if (!count) {
		sb_puts(sb, "(no path MTU entries)\n");
	}
}

void report_error(struct strbuf *sb, const char *msg, bool json)
{
	if (json) {
		sb_puts(sb, "{\"error\": ");
		sb_json_str(sb, msg);
		sb_puts(sb, "}\n");
	} else {
		sb_printf(sb, "error: %s\n", msg);
	}
}

static void uptime_str(uint64_t s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(buf, len, "%lluh%02llum%02llus", (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
}

static void status_json(struct strbuf *sb, const struct report_status *s)
{
	char a[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
	int i;

	sb_printf(sb, "{\"version\": ");
	sb_json_str(sb, s->version);
	sb_printf(sb, ", \"pid\": %d, \"uptime_s\": %llu, \"iface\": ", s->pid,
		  (unsigned long long)s->uptime_s);
	sb_json_str(sb, s->iface);
	sb_printf(sb, ", \"ifindex\": %d, \"mtu\": %u, \"mode\": ", s->ifindex, s->mtu);
	sb_json_str(sb, s->mode);
	sb_puts(sb, ", \"attach\": ");
	sb_json_str(sb, s->attach);
	sb_puts(sb, ", \"pin_dir\": ");
	sb_json_str(sb, s->pin_dir);
	sb_puts(sb, ", \"control\": ");
	sb_json_str(sb, s->ctl_name);
	sb_puts(sb, ", \"seccomp\": ");
	sb_json_str(sb, s->seccomp ? s->seccomp : "off");
	sb_printf(sb, ", \"control_clients\": {\"accepted\": %llu, \"requests\": %llu, "
		  "\"denied\": %llu, \"bad_requests\": %llu, \"timeouts\": %llu, "
		  "\"write_timeouts\": %llu, \"evicted\": %llu, \"turned_away\": %llu, "
		  "\"peer_unknown\": %llu}",
		  (unsigned long long)s->ctl.accepted, (unsigned long long)s->ctl.requests,
		  (unsigned long long)s->ctl.denied, (unsigned long long)s->ctl.bad_requests,
		  (unsigned long long)s->ctl.timeouts, (unsigned long long)s->ctl.write_timeouts,
		  (unsigned long long)s->ctl.evicted, (unsigned long long)s->ctl.turned_away,
		  (unsigned long long)s->ctl.peer_unknown);
	sb_printf(sb, ", \"vlan\": %u, \"rx_vlan_offload\": %s, \"gateway\": ", s->vlan_id,
		  !s->vlan_id || s->rx_vlan_offload < 0 ? "null" :
		  s->rx_vlan_offload ? "true" : "false");
	if (s->gateway)
		sb_json_str(sb, ip_str(s->gateway, a));
	else
		sb_puts(sb, "null");
	sb_puts(sb, ", \"gateway6\": ");
	if (!IN6_IS_ADDR_UNSPECIFIED(&s->gateway6))
		sb_json_str(sb, inet_ntop(AF_INET6, &s->gateway6, a6, sizeof(a6)));
	else
		sb_puts(sb, "null");
	sb_puts(sb, ", \"queues\": [");
	for (i = 0; i < s->n_queues; i++) {
		sb_printf(sb, "{\"queue\": %u, \"zerocopy\": %s, \"xsk_mode\": \"%s\", \"cpu\": ",
			  s->queues[i].queue, s->queues[i].zerocopy ? "true" : "false",
			  s->queues[i].zerocopy ? "zero-copy" : "copy");
		if (s->queues[i].cpu >= 0)
			sb_printf(sb, "%d},", s->queues[i].cpu);
		else
			sb_puts(sb, "null},");
	}
	sb_trim_comma(sb);
	sb_puts(sb, "], \"addresses\": [");
	for (i = 0; i < s->n_addrs; i++)
		sb_printf(sb, "{\"addr\": \"%s\", \"prefix_len\": %u, \"mode\": \"%s\"},",
			  ip_str(s->addrs[i].addr, a), s->addrs[i].prefix_len,
			  s->addrs[i].dedicated ? "dedicated" : "shared");
	for (i = 0; i < s->n_addrs6; i++)
		sb_printf(sb, "{\"addr\": \"%s\", \"prefix_len\": %u, \"mode\": \"%s\"%s},",
			  inet_ntop(AF_INET6, &s->addrs6[i].addr, a6, sizeof(a6)),
			  s->addrs6[i].prefix_len, s->addrs6[i].dedicated ? "dedicated" : "shared",
			  s->addrs6[i].link_local ? ", \"link_local\": true" : "");
	sb_trim_comma(sb);
	sb_puts(sb, "], \"services\": [");
	for (i = 0; i < s->n_echo; i++)
		sb_printf(sb, "{\"name\": \"echo\", \"proto\": \"udp\", \"port\": %u},",
			  s->echo_ports[i]);
	for (i = 0; i < s->n_discard; i++)
		sb_printf(sb, "{\"name\": \"discard\", \"proto\": \"udp\", \"port\": %u},",
			  s->discard_ports[i]);
	for (i = 0; s->tcp && i < s->n_echo; i++)
		sb_printf(sb, "{\"name\": \"echo\", \"proto\": \"tcp\", \"port\": %u},",
			  s->echo_ports[i]);
	for (i = 0; s->tcp && i < s->n_discard; i++)
		sb_printf(sb, "{\"name\": \"discard\", \"proto\": \"tcp\", \"port\": %u},",
			  s->discard_ports[i]);
	if (s->http_port) {
		sb_printf(sb, "{\"name\": \"http\", \"proto\": \"tcp\", \"port\": %u, \"dir\": ",
			  s->http_port);
		sb_json_str(sb, s->http_dir ? s->http_dir : "");
		sb_puts(sb, "},");
	}
	sb_trim_comma(sb);
	sb_printf(sb, "], \"limits\": {\"max_conns\": %u, \"http_max_conns\": %u, "
		  "\"syn_backlog\": %u, \"frames\": %u, \"failover_ms\": %u, "
		  "\"http_idle_s\": %u, \"http_per_source\": %u}}\n",
		  s->max_conns, s->http_max_conns, s->syn_backlog, s->frames, s->failover_ms,
		  s->http_idle_s, s->http_per_source);
}

void report_status(struct strbuf *sb, const struct report_status *s, bool json)
{
	char a[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN], up[32], fo[32];
	int i;

	if (json) {
		status_json(sb, s);
		return;
	}
	uptime_str(s->uptime_s, up, sizeof(up));
	sb_printf(sb, "skiffd %s, pid %d, up %s\n", s->version, s->pid, up);
	sb_printf(sb, "interface  %s (ifindex %d, mtu %u)\n", s->iface, s->ifindex, s->mtu);
	sb_printf(sb, "xdp        %s mode, %s\n", s->mode, s->attach);
	sb_printf(sb, "pin dir    %s\n", s->pin_dir);
	sb_printf(sb, "control    %s\n", s->ctl_name);
	if (s->ctl.accepted || s->ctl.turned_away || s->ctl.peer_unknown)
		sb_printf(sb, "           %llu clients, %llu requests (%llu denied, %llu bad), "
			  "%llu timed out, %llu answers unread, %llu evicted, %llu turned away\n",
			  (unsigned long long)s->ctl.accepted, (unsigned long long)s->ctl.requests,
			  (unsigned long long)s->ctl.denied, (unsigned long long)s->ctl.bad_requests,
			  (unsigned long long)s->ctl.timeouts,
			  (unsigned long long)s->ctl.write_timeouts,
			  (unsigned long long)s->ctl.evicted, (unsigned long long)s->ctl.turned_away);
	if (s->seccomp)
		sb_printf(sb, "seccomp    %s%s\n", s->seccomp,
			  !strcmp(s->seccomp, "enforce") ? " (a system call outside the list kills skiffd)" :
			  !strcmp(s->seccomp, "log") ? " (calls outside the list allowed and logged: dmesg)" :
			  " (no system call filter)");
	if (s->vlan_id)
		sb_printf(sb, "vlan       %u (rx VLAN offload %s)\n", s->vlan_id,
			  s->rx_vlan_offload < 0 ? "unknown" :
			  s->rx_vlan_offload ? "on: the tag may not reach XDP" : "off");
	sb_printf(sb, "queues     %d\n", s->n_queues);
	for (i = 0; i < s->n_queues; i++) {
		sb_printf(sb, "  queue %-3u AF_XDP %s", s->queues[i].queue,
			  s->queues[i].zerocopy ? "zero-copy" : "copy mode");
		if (s->queues[i].cpu >= 0)
			sb_printf(sb, ", worker on cpu %d", s->queues[i].cpu);
		sb_puts(sb, "\n");
	}
	for (i = 0; i < s->n_addrs; i++)
		sb_printf(sb, "%s %s/%u %s\n", i ? "          " : "addresses ",
			  ip_str(s->addrs[i].addr, a), s->addrs[i].prefix_len,
			  s->addrs[i].dedicated ? "dedicated (skiff answers ARP and ping)"
						: "shared with the kernel (skiff owns its ports only)");
	for (i = 0; i < s->n_addrs6; i++)
		sb_printf(sb, "%s %s/%u %s%s\n", i || s->n_addrs ? "          " : "addresses ",
			  inet_ntop(AF_INET6, &s->addrs6[i].addr, a6, sizeof(a6)),
			  s->addrs6[i].prefix_len,
			  s->addrs6[i].dedicated ? "dedicated (XDP answers NDP and ping)"
						 : "shared with the kernel (skiff owns its ports only)",
			  s->addrs6[i].link_local ? ", link-local from the MAC" : "");
	sb_printf(sb, "gateway    %s\n", s->gateway ? ip_str(s->gateway, a) : "none");
	if (!IN6_IS_ADDR_UNSPECIFIED(&s->gateway6))
		sb_printf(sb, "gateway6   %s\n", inet_ntop(AF_INET6, &s->gateway6, a6, sizeof(a6)));
	sb_puts(sb, "services  ");
	if (!s->n_echo && !s->n_discard && !s->http_port)
		sb_puts(sb, " none");
	for (i = 0; i < s->n_echo; i++)
		sb_printf(sb, "%s udp echo %u", i ? "," : "", s->echo_ports[i]);
	for (i = 0; i < s->n_discard; i++)
		sb_printf(sb, "%s udp discard %u", i || s->n_echo ? "," : "",
			  s->discard_ports[i]);
	for (i = 0; s->tcp && i < s->n_echo; i++)
		sb_printf(sb, ", tcp echo %u", s->echo_ports[i]);
	for (i = 0; s->tcp && i < s->n_discard; i++)
		sb_printf(sb, ", tcp discard %u", s->discard_ports[i]);
	if (s->http_port)
		sb_printf(sb, "%s http %u (%s)", s->n_echo || s->n_discard ? "," : "", s->http_port,
			  s->http_dir ? s->http_dir : "");
	sb_puts(sb, "\n");
	if (s->failover_ms)
		snprintf(fo, sizeof(fo), "after %u ms", s->failover_ms);
	else
		snprintf(fo, sizeof(fo), "never");
	sb_printf(sb, "limits     %u connections per service and worker, SYN queue %u, "
		  "%u frames per queue, fail open %s\n",
		  s->max_conns, s->syn_backlog, s->frames, fo);
	if (s->http_port)
		sb_printf(sb, "http       %u connections per worker, %u per address, idle %u s\n",
			  s->http_max_conns, s->http_per_source, s->http_idle_s);
}

static void counters_json(struct strbuf *sb, const void *base, const struct report_counter *c,
			  size_t n)
{
	size_t i;

	sb_puts(sb, "{");
	for (i = 0; i < n; i++)
		sb_printf(sb, "\"%s\": %llu,", c[i].name,
			  (unsigned long long)report_get(base, &c[i]));
	sb_trim_comma(sb);
	sb_puts(sb, "}");
}

/* name value pairs, three to a line; skip_zero leaves zero counters out */
static int counters_text(struct strbuf *sb, const void *base, const struct report_counter *c,
			 size_t n, bool skip_zero)
{
	int col = 0, shown = 0;
	uint64_t v;
	size_t i;

	for (i = 0; i < n; i++) {
		v = report_get(base, &c[i]);
		if (skip_zero && !v)
			continue;
		sb_printf(sb, "%s%-20s %12llu", col ? "   " : "  ", c[i].name,
			  (unsigned long long)v);
		shown++;
		if (++col == 3) {
			sb_puts(sb, "\n");
			col = 0;
		}
	}
	if (col)
		sb_puts(sb, "\n");
	return shown;
}

static void xsk_json(struct strbuf *sb, const struct report_queue_stats *q)
{
	size_t i;

	if (q->xsk_err) {
		sb_puts(sb, "null");
		return;
	}
	sb_puts(sb, "{");
	for (i = 0; i < report_n_xsk_counters; i++) {
		if (i < q->xsk.n_fields)
			sb_printf(sb, "\"%s\": %llu,", report_xsk_counters[i].name,
				  (unsigned long long)report_get(&q->xsk, &report_xsk_counters[i]));
		else	/* the kernel is too old to keep it */
			sb_printf(sb, "\"%s\": null,", report_xsk_counters[i].name);
	}
	sb_trim_comma(sb);
	sb_puts(sb, "}");
}

/* One line per queue whose socket counters are not all zero (or unreadable). */
static void xsk_text(struct strbuf *sb, const struct report_queue_stats *q, int n_queues)
{
	int k, shown = 0;
	uint64_t v;
	size_t i;
	bool any;

	sb_puts(sb, "\nAF_XDP sockets, kernel counters (non-zero)\n");
	for (k = 0; k < n_queues; k++) {
		if (q[k].xsk_err) {
			sb_printf(sb, "  queue %-3u (could not read: %s)\n", q[k].queue,
				  strerror(-q[k].xsk_err));
			shown++;
			continue;
		}
		any = false;
		for (i = 0; i < report_n_xsk_counters; i++) {
			v = report_get(&q[k].xsk, &report_xsk_counters[i]);
			if (!v)
				continue;
			if (!any)
				sb_printf(sb, "  queue %-3u", q[k].queue);
			sb_printf(sb, "%s %s %llu", any ? "," : "", report_xsk_counters[i].name,
				  (unsigned long long)v);
			any = true;
		}
		if (any) {
			sb_puts(sb, "\n");
			shown++;
		}
	}
	if (!shown)
		sb_puts(sb, "  none\n");
}

void report_stats(struct strbuf *sb, const struct report_queue_stats *q, int n_queues,
		  const struct skiff_xdp_stats *xdp, bool json)
{
	struct report_counter xdp_plain[sizeof(report_xdp_counters) / sizeof(report_xdp_counters[0])];
	struct report_counter xdp_drop[sizeof(report_xdp_counters) / sizeof(report_xdp_counters[0])];
	size_t n_plain = 0, n_drop = 0, i;
	struct skiff_ustats sum;
	int k;

	memset(&sum, 0, sizeof(sum));
	for (k = 0; k < n_queues; k++)
		report_ustats_add(&sum, &q[k].st);

	if (json) {
		sb_puts(sb, "{\"queues\": [");
		for (k = 0; k < n_queues; k++) {
			sb_printf(sb, "{\"queue\": %u, \"rx_pps\": %llu, \"tx_pps\": %llu, \"counters\": ",
				  q[k].queue, (unsigned long long)q[k].rx_pps,
				  (unsigned long long)q[k].tx_pps);
			counters_json(sb, &q[k].st, report_ustats_counters, report_n_ustats_counters);
			sb_puts(sb, ", \"drops\": ");
			counters_json(sb, &q[k].st, report_drop_counters, report_n_drop_counters);
			sb_puts(sb, ", \"xsk\": ");
			xsk_json(sb, &q[k]);
			sb_puts(sb, "},");
		}
		sb_trim_comma(sb);
		sb_puts(sb, "], \"xdp\": ");
		if (xdp)
			counters_json(sb, xdp, report_xdp_counters, report_n_xdp_counters);
		else
			sb_puts(sb, "null");
		sb_puts(sb, ", \"daemon\": ");
		counters_json(sb, &sum, report_ustats_counters, report_n_ustats_counters);
		sb_puts(sb, ", \"drops\": ");
		counters_json(sb, &sum, report_drop_counters, report_n_drop_counters);
		sb_puts(sb, "}\n");
		return;
	}

	sb_printf(sb, "%-6s %14s %14s %10s %10s  %s\n", "queue", "rx_packets", "tx_packets",
		  "rx_pps", "tx_pps", "frames free/fill/tx/total");
	for (k = 0; k < n_queues; k++)
		sb_printf(sb, "%-6u %14llu %14llu %10llu %10llu  %llu/%llu/%llu/%llu\n", q[k].queue,
			  (unsigned long long)q[k].st.rx_packets,
			  (unsigned long long)q[k].st.tx_packets, (unsigned long long)q[k].rx_pps,
			  (unsigned long long)q[k].tx_pps, (unsigned long long)q[k].st.frames_free,
			  (unsigned long long)q[k].st.frames_fill,
			  (unsigned long long)q[k].st.frames_tx,
			  (unsigned long long)q[k].st.frames_total);

	sb_puts(sb, "\nXDP (all CPUs)\n");
	if (xdp) {
		for (i = 0; i < report_n_xdp_counters; i++) {
			if (!strncmp(report_xdp_counters[i].name, "drop_", 5))
				xdp_drop[n_drop++] = report_xdp_counters[i];
			else
				xdp_plain[n_plain++] = report_xdp_counters[i];
		}
		counters_text(sb, xdp, xdp_plain, n_plain, false);
		counters_text(sb, xdp, xdp_drop, n_drop, true);
	} else {
		sb_puts(sb, "  (could not read the XDP stats map)\n");
	}
	sb_puts(sb, "\ndaemon (all queues)\n");
	counters_text(sb, &sum, report_ustats_counters, report_n_ustats_counters, false);
	sb_puts(sb, "\ndrops (non-zero)\n");
	if (!counters_text(sb, &sum, report_drop_counters, report_n_drop_counters, true))
		sb_puts(sb, "  none\n");
	xsk_text(sb, q, n_queues);
}

static const char *mac_str(const uint8_t m[6], char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

/* A neighbour's address, either family. */
static const char *neigh_addr(const struct report_neigh *n, char *buf, size_t len)
{
	if (n->v6)
		return inet_ntop(AF_INET6, n->ip6, buf, (socklen_t)len);
	return inet_ntop(AF_INET, &n->ip, buf, (socklen_t)len);
}

void report_neigh(struct strbuf *sb, const struct report_neigh *n, int count, uint64_t stale_ns,
		  bool json)
{
	char a[INET6_ADDRSTRLEN], m[18], w[24];
	const char *state;
	int i;

	if (json)
		sb_puts(sb, "{\"neighbours\": [");
	else
		sb_printf(sb, "%-16s %-18s %-10s %s\n", "address", "mac", "state", "age");
	for (i = 0; i < count; i++) {
		/* shared entries are resolved ones: confirmation age decides, with the
		 * daemon's own re-confirm interval (link/neigh.h); entries only in a
		 * worker's cache (resolution pending or failed) carry their state */
		state = n[i].state ? n[i].state
				   : n[i].age_ns < stale_ns ? "reachable" : "stale";
		if (json) {
			sb_printf(sb, "{\"ip\": \"%s\", \"mac\": \"%s\", \"state\": ",
				  neigh_addr(&n[i], a, sizeof(a)), mac_str(n[i].mac, m));
			sb_json_str(sb, state);
			if (n[i].age_ns == REPORT_AGE_NEVER)
				sb_puts(sb, ", \"age_s\": null, \"worker\": ");
			else
				sb_printf(sb, ", \"age_s\": %.3f, \"worker\": ",
					  (double)n[i].age_ns / 1e9);
			if (n[i].worker >= 0)
				sb_printf(sb, "%d},", n[i].worker);
			else
				sb_puts(sb, "null},");
		} else if (n[i].state) {
			snprintf(w, sizeof(w), "(worker %d)", n[i].worker);
			if (n[i].age_ns == REPORT_AGE_NEVER)
				snprintf(m, sizeof(m), "-");
			else
				snprintf(m, sizeof(m), "%.1fs", (double)n[i].age_ns / 1e9);
			sb_printf(sb, "%-16s %-18s %-10s %s %s\n", neigh_addr(&n[i], a, sizeof(a)), "-", state, m,
				  n[i].worker >= 0 ? w : "");
		} else {
			sb_printf(sb, "%-16s %-18s %-10s %.1fs\n", neigh_addr(&n[i], a, sizeof(a)),
				  mac_str(n[i].mac, m), state, (double)n[i].age_ns / 1e9);
		}
	}
	if (json) {
		sb_trim_comma(sb);
		sb_puts(sb, "]}\n");
	} else if (!count) {
		sb_puts(sb, "(no entries)\n");
	}
}

/* An address of either family as text: IPv4 (also an IPv4-mapped one: what
 * is on the wire) dotted, IPv6 as inet_ntop gives it. */
static const char *inet_addr_str(const union inet_addr *addr, char *buf)
{
	if (inet_addr_is4(addr))
		return ip_str(addr->w[3], buf);
	return inet_ntop(AF_INET6, addr->b, buf, INET6_ADDRSTRLEN);
}

/* As ss shows them: a.b.c.d:port, [a:b::c]:port, *:port for a wildcard. */
static void endpoint_str(const union inet_addr *addr, uint16_t port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_addr_is_any(addr) && !port)
		snprintf(buf, len, "*:*");
	else if (inet_addr_is_any(addr))
		snprintf(buf, len, "*:%u", ntohs(port));
	else if (inet_addr_is4(addr))
		snprintf(buf, len, "%s:%u", inet_addr_str(addr, a), ntohs(port));
	else
		snprintf(buf, len, "[%s]:%u", inet_addr_str(addr, a), ntohs(port));
}

static void socket_json(struct strbuf *sb, const struct report_sock *s)
{
	char a[INET6_ADDRSTRLEN];

	sb_printf(sb, "{\"worker\": %d, \"proto\": ", s->worker);
	sb_json_str(sb, s->proto);
	sb_printf(sb, ", \"local_addr\": \"%s\", \"local_port\": %u, ",
		  inet_addr_str(&s->saddr, a), ntohs(s->sport));
	if (s->dport)
		sb_printf(sb, "\"peer_addr\": \"%s\", \"peer_port\": %u, ",
			  inet_addr_str(&s->daddr, a), ntohs(s->dport));
	else
		sb_puts(sb, "\"peer_addr\": null, \"peer_port\": null, ");
	if (!s->tcp) {
		sb_printf(sb, "\"recv_q_bytes\": %u, \"recv_q_packets\": %u},", s->rq_bytes,
			  s->rq_packets);
		return;
	}
	sb_puts(sb, "\"state\": ");
	sb_json_str(sb, s->state ? s->state : "?");
	sb_printf(sb, ", \"recv_q\": %u, \"send_q\": %u, \"cwnd\": %u, \"srtt_us\": %u, "
		  "\"rttvar_us\": %u, \"rto_ms\": %u, \"mss\": %u, \"retrans\": %llu, "
		  "\"orphan\": %s, \"cc\": ",
		  s->rq_bytes, s->sq_bytes, s->cwnd, s->srtt_us, s->rttvar_us, s->rto_ms, s->mss,
		  (unsigned long long)s->retrans, s->orphan ? "true" : "false");
	sb_json_str(sb, s->cc ? s->cc : "");
	sb_puts(sb, ", \"cc_state\": ");
	sb_json_str(sb, s->cc_state);
	sb_puts(sb, "},");
}

void report_sockets(struct strbuf *sb, const struct report_sock *s, int count, bool json)
{
	char l[64], p[64], rtt[32];
	int i, n_tcp = 0;

	if (json) {
		sb_puts(sb, "{\"sockets\": [");
		for (i = 0; i < count; i++)
			socket_json(sb, &s[i]);
		sb_trim_comma(sb);
		sb_puts(sb, "]}\n");
		return;
	}
	for (i = 0; i < count; i++)
		n_tcp += s[i].tcp;
	if (count > n_tcp)
		sb_printf(sb, "%-6s %-5s %-21s %-21s %12s %12s\n", "worker", "proto", "local", "peer",
			  "recv-q bytes", "recv-q pkts");
	for (i = 0; i < count; i++) {
		if (s[i].tcp)
			continue;
		endpoint_str(&s[i].saddr, s[i].sport, l, sizeof(l));
		endpoint_str(&s[i].daddr, s[i].dport, p, sizeof(p));
		sb_printf(sb, "%-6d %-5s %-21s %-21s %12u %12u\n", s[i].worker, s[i].proto, l, p,
			  s[i].rq_bytes, s[i].rq_packets);
	}
	if (n_tcp) {
		/* as ss -tani: state, queues, endpoints, then the engine's view */
		if (count > n_tcp)
			sb_puts(sb, "\n");
		sb_printf(sb, "%-6s %-11s %8s %8s %-21s %-21s %8s %15s %7s %5s %7s %s\n", "worker",
			  "state", "recv-q", "send-q", "local", "peer", "cwnd", "rtt/var ms",
			  "rto ms", "mss", "retrans", "cc");
		for (i = 0; i < count; i++) {
			if (!s[i].tcp)
				continue;
			endpoint_str(&s[i].saddr, s[i].sport, l, sizeof(l));
			endpoint_str(&s[i].daddr, s[i].dport, p, sizeof(p));
			snprintf(rtt, sizeof(rtt), "%.3f/%.3f", s[i].srtt_us / 1000.0,
				 s[i].rttvar_us / 1000.0);
			sb_printf(sb, "%-6d %-11s %8u %8u %-21s %-21s %8u %15s %7u %5u %7llu %s%s%s%s%s\n",
				  s[i].worker, s[i].state ? s[i].state : "?", s[i].rq_bytes,
				  s[i].sq_bytes, l, p, s[i].cwnd, rtt, s[i].rto_ms, s[i].mss,
				  (unsigned long long)s[i].retrans, s[i].cc ? s[i].cc : "",
				  s[i].cc_state[0] ? " (" : "", s[i].cc_state,
				  s[i].cc_state[0] ? ")" : "",
				  s[i].orphan && strcmp(s[i].state ? s[i].state : "", "TIME-WAIT")
					  ? " (orphan)"
					  : "");
		}
	}
	if (!count)
		sb_puts(sb, "(no sockets)\n");
}

static const char *const route_kind_names[] = {
	[REPORT_ROUTE_LINK] = "link",
	[REPORT_ROUTE_STATIC] = "static",
	[REPORT_ROUTE_DEFAULT] = "default",
};

void report_routes(struct strbuf *sb, const struct report_route *r, int count, const char *dev,
		   bool json)
{
	char d[INET6_ADDRSTRLEN + 4], g[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN];
	int i;
	bool via;

	if (json)
		sb_puts(sb, "{\"routes\": [");
	for (i = 0; i < count; i++) {
		via = r[i].v6 ? !IN6_IS_ADDR_UNSPECIFIED(&r[i].gateway6) : r[i].gateway != 0;
		if (r[i].kind == REPORT_ROUTE_DEFAULT)
			snprintf(d, sizeof(d), "default");
		else if (r[i].v6)
			snprintf(d, sizeof(d), "%s/%u", inet_ntop(AF_INET6, &r[i].dst6, g, sizeof(g)),
				 r[i].prefix_len);
		else
			snprintf(d, sizeof(d), "%s/%u", ip_str(r[i].dst, g), r[i].prefix_len);
		if (r[i].v6) {
			inet_ntop(AF_INET6, &r[i].src6, s, sizeof(s));
			inet_ntop(AF_INET6, &r[i].gateway6, g, sizeof(g));
		} else {
			ip_str(r[i].src, s);
			if (via)
				ip_str(r[i].gateway, g);
		}
		if (json) {
			/* the keys of ip -j route, plus family, kind and uses */
			sb_printf(sb, "{\"dst\": \"%s\", \"prefix_len\": %u, \"gateway\": ", d,
				  r[i].prefix_len);
			if (via)
				sb_printf(sb, "\"%s\"", g);
			else
				sb_puts(sb, "null");
			sb_puts(sb, ", \"dev\": ");
			sb_json_str(sb, dev);
			sb_printf(sb, ", \"scope\": \"%s\", \"prefsrc\": \"%s\", \"family\": \"%s\", "
				  "\"kind\": \"%s\", \"uses\": %llu},",
				  via ? "global" : "link", s, r[i].v6 ? "inet6" : "inet",
				  route_kind_names[r[i].kind], (unsigned long long)r[i].uses);
		} else if (via) {
			sb_printf(sb, "%s via %s dev %s src %s uses %llu\n", d, g, dev, s,
				  (unsigned long long)r[i].uses);
		} else {
			sb_printf(sb, "%s dev %s scope link src %s uses %llu\n", d, dev, s,
				  (unsigned long long)r[i].uses);
		}
	}
	if (json) {
		sb_trim_comma(sb);
		sb_puts(sb, "]}\n");
	} else if (!count) {
		sb_puts(sb, "(no routes)\n");
	}
}
