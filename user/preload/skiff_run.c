// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * skiff-run [OPTIONS] PROGRAM [ARGS...]: run an unmodified program with its
 * AF_INET sockets on skiff (docs/skiff-run.md).  It asks skiffd (status on
 * the control socket) for its addresses, puts them and the options into
 * the environment libskiff-preload.so reads (SKIFF_RUN_ADDRS, _PORTS,
 * _NETS, _VERBOSE; SKIFF_IFACE), prepends the library to LD_PRELOAD and
 * executes the program.  The library is found next to this program:
 * ../lib/libskiff-preload.so (the build tree and an installed prefix have
 * the same layout), or $SKIFF_RUN_LIB.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define RUN_DIR "/run/skiff"
#define LIST_MAX 1024

static void usage(FILE *f)
{
	fprintf(f,
		"usage: skiff-run [-i IFACE] [-p PORT[,PORT...]]... [-n CIDR]... [-b USECS] [-v] [--] "
		"PROGRAM [ARGS...]\n"
		"  -i, --iface IFACE  the skiffd of IFACE (default: $SKIFF_IFACE, or the only "
		"one)\n"
		"  -p, --port PORT    a bind() to 0.0.0.0, [::] or a shared address on PORT goes "
		"to skiff\n"
		"  -n, --net CIDR     connect() to a destination in CIDR (IPv4 or IPv6) goes to "
		"skiff\n"
		"                     (default: the subnets of skiffd's addresses)\n"
		"  -b, --busy-poll USECS  a thread that waits for skiffd spins up to USECS\n"
		"                     before it sleeps (SKIFF_BUSY_POLL_US; default 0: off)\n"
		"  -v, --verbose      say on stderr which sockets went to skiff\n"
		"A bind() to one of skiffd's dedicated addresses always goes to skiff; every\n"
		"other socket stays the kernel's.  docs/skiff-run.md has the details.\n");
}

static void append(char *list, const char *item)
{
	size_t l = strlen(list);

	if (l + strlen(item) + 2 >= LIST_MAX) {
		fprintf(stderr, "skiff-run: too many addresses, ports or nets\n");
		exit(2);
	}
	snprintf(list + l, LIST_MAX - l, "%s%s", l ? "," : "", item);
}

/* A control socket someone listens on (a skiffd killed with SIGKILL leaves
 * its file behind: connect() is refused); one we may not open counts as
 * live, so the refusal says why later. */
static bool live_socket(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	bool ok;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return false;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 || errno == EACCES ||
	     errno == EPERM;
	close(fd);
	return ok;
}

/* The control socket: of iface, or the only live one of this namespace. */
static int ctl_path(const char *iface, char *path, size_t len)
{
	char suffix[48], only[PATH_MAX] = "";
	struct dirent *de;
	struct stat st;
	size_t sl, nl;
	int n = 0;
	DIR *d;

	if (stat("/proc/self/ns/net", &st) < 0) {
		fprintf(stderr, "skiff-run: /proc/self/ns/net: %s\n", strerror(errno));
		return -1;
	}
	snprintf(suffix, sizeof(suffix), ".%" PRIu64 ".sock", (uint64_t)st.st_ino);
	if (iface && *iface) {
		snprintf(path, len, "%s/%s%s", RUN_DIR, iface, suffix);
		return 0;
	}
	d = opendir(RUN_DIR);
	if (!d) {
		fprintf(stderr, "skiff-run: no skiffd is running (%s: %s)\n", RUN_DIR,
			strerror(errno));
		return -1;
	}
	sl = strlen(suffix);
	while ((de = readdir(d))) {
		nl = strlen(de->d_name);
		if (nl > sl && !strcmp(de->d_name + nl - sl, suffix)) {
			char p[PATH_MAX];

			snprintf(p, sizeof(p), "%s/%s", RUN_DIR, de->d_name);
			if (!live_socket(p))
				continue; /* left by a dead skiffd */
			snprintf(only, sizeof(only), "%s", p);
			n++;
		}
	}
	closedir(d);
	if (n != 1) {
		fprintf(stderr,
			"skiff-run: %s skiffd in this network namespace: name one with -i\n",
			n ? "more than one" : "no");
		return -1;
	}
	snprintf(path, len, "%s", only);
	return 0;
}

/* Ask skiffd for its status; append its addresses (IPv4 and IPv6) to
 * addrs as A/len:dedicated or A/len:shared. */
static int skiffd_addrs(const char *path, char *addrs)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char buf[16384], *line, *save, a[64 + sizeof(":dedicated")], mode[32];
	size_t got = 0;
	bool in_addrs = false;
	ssize_t n;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    write(fd, "status\n", 7) != 7) {
		fprintf(stderr, "skiff-run: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = 0;
	if (strncmp(buf, "ok", 2) && !strstr(buf, "addresses")) {
		fprintf(stderr, "skiff-run: skiffd's status: %.200s\n", buf);
		return -1;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "addresses ", 10))
			in_addrs = true;
		else if (!in_addrs || strncmp(line, "          ", 10))
			in_addrs = false;
		if (!in_addrs || sscanf(line + 10, "%63s %31s", a, mode) != 2 || !strchr(a, '/'))
			continue;
		strcat(a, !strcmp(mode, "dedicated") ? ":dedicated" : ":shared");
		append(addrs, a);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"iface", required_argument, NULL, 'i'}, {"port", required_argument, NULL, 'p'},
		{"net", required_argument, NULL, 'n'},	 {"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},	 {"busy-poll", required_argument, NULL, 'b'},
		{NULL, 0, NULL, 0},
	};
	char ports[LIST_MAX] = "", nets[LIST_MAX] = "", addrs[LIST_MAX] = "";
	char path[PATH_MAX], self[PATH_MAX], lib[PATH_MAX + 64];
	const char *old;
	const char *iface = getenv("SKIFF_IFACE"), *env_lib = getenv("SKIFF_RUN_LIB");
	bool verbose = false;
	ssize_t n;
	int c;

	while ((c = getopt_long(argc, argv, "+i:p:n:b:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			iface = optarg;
			break;
		case 'p':
			append(ports, optarg);
			break;
		case 'n':
			append(nets, optarg);
			break;
		case 'b':
			if (!*optarg || strspn(optarg, "0123456789") != strlen(optarg) ||
			    strlen(optarg) > 7 || atol(optarg) > 1000000) {
				fprintf(stderr, "skiff-run: --busy-poll '%s': want microseconds, 0 to 1000000\n",
					optarg);
				return 2;
			}
			setenv("SKIFF_BUSY_POLL_US", optarg, 1);
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (ctl_path(iface, path, sizeof(path)) || skiffd_addrs(path, addrs))
		return 1;
	if (env_lib && *env_lib) {
		snprintf(lib, sizeof(lib), "%s", env_lib);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0) {
			fprintf(stderr, "skiff-run: /proc/self/exe: %s\n", strerror(errno));
			return 1;
		}
		self[n] = 0;
		snprintf(lib, sizeof(lib), "%s/../lib/libskiff-preload.so", dirname(self));
	}
	if (access(lib, R_OK)) {
		fprintf(stderr, "skiff-run: %s: %s\n", lib, strerror(errno));
		return 1;
	}
	old = getenv("LD_PRELOAD");
	if (old && *old) {
		size_t l = strlen(lib) + strlen(old) + 2;
		char *both = malloc(l);

		if (!both)
			return 1;
		snprintf(both, l, "%s:%s", lib, old);
		setenv("LD_PRELOAD", both, 1);
	} else {
		setenv("LD_PRELOAD", lib, 1);
	}
	if (strrchr(path, '/')) { /* <ifname>.<netns>.sock: the name may hold dots */
		char ifname[64], *dot;

		snprintf(ifname, sizeof(ifname), "%s", strrchr(path, '/') + 1);
		for (c = 0; c < 2 && (dot = strrchr(ifname, '.')); c++)
			*dot = 0;
		setenv("SKIFF_IFACE", ifname, 1);
	}
	setenv("SKIFF_RUN_ADDRS", addrs, 1);
	setenv("SKIFF_RUN_PORTS", ports, 1);
	if (*nets)
		setenv("SKIFF_RUN_NETS", nets, 1);
	else
		unsetenv("SKIFF_RUN_NETS");
	if (verbose)
		setenv("SKIFF_RUN_VERBOSE", "1", 1);
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "skiff-run: %s: %s\n", argv[optind], strerror(errno));
	return 127;
}
