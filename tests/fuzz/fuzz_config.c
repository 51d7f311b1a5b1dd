// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer harness for skiffd's configuration (user/cmd/config.c): the
 * input is a config file, a NUL, then the command-line arguments separated
 * by NULs.  The file is handed over as --config /proc/self/fd/N of a memfd
 * when it is not empty.  skiffd_config_parse() must return a result or an
 * error with a one-line reason, never crash; the same argv goes to
 * skiffctl_parse().
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cmd/config.h"

#define FZ_MAX_ARGS 64

#define FZ_CHECK(cond)                                                                     \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "fuzz_config: check failed: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                                       \
			abort();                                                           \
		}                                                                          \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct skiffd_config cfg;
	static struct skiffctl_args ca;
	char *argv[FZ_MAX_ARGS + 4], *buf, err[256], fdpath[64];
	const uint8_t *nul = memchr(data, 0, size);
	size_t flen = nul ? (size_t)(nul - data) : size, off;
	int argc = 0, fd = -1, rc;

	buf = malloc(size + 1);
	FZ_CHECK(buf);
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = "skiffd";
	if (flen) {
		fd = memfd_create("skiff-fuzz-config", MFD_CLOEXEC);
		FZ_CHECK(fd >= 0);
		FZ_CHECK(write(fd, data, flen) == (ssize_t)flen);
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
		argv[argc++] = "--config";
		argv[argc++] = fdpath;
	}
	for (off = flen + 1; off <= size && argc < FZ_MAX_ARGS; off += strlen(buf + off) + 1)
		argv[argc++] = buf + off;
	argv[argc] = NULL;

	skiffd_config_defaults(&cfg);
	err[0] = '\0';
	rc = skiffd_config_parse(&cfg, argc, argv, err, sizeof(err));
	if (rc < 0) {
		/* one line, unless it quotes an argument that has a newline */
		FZ_CHECK(err[0]);
		FZ_CHECK(!strchr(err, '\n') || memchr(data + flen, '\n', size - flen));
		FZ_CHECK(strnlen(err, sizeof(err)) < sizeof(err));
	} else if (rc == SKIFFD_PARSE_OK) {
		FZ_CHECK(cfg.n_addrs >= 0 && cfg.n_addrs <= SKIFF_MAX_ADDRS);
		FZ_CHECK(cfg.n_echo >= 0 && cfg.n_echo <= SKIFFD_MAX_SERVICES);
		FZ_CHECK(cfg.n_discard >= 0 && cfg.n_discard <= SKIFFD_MAX_SERVICES);
		FZ_CHECK(cfg.n_cpus >= 0 && cfg.n_cpus <= SKIFF_MAX_QUEUES);
		if (!cfg.queues_all)
			(void)skiffd_config_check_queues(&cfg, err, sizeof(err));
	}
	memset(&ca, 0, sizeof(ca));
	argv[0] = "skiffctl";
	(void)skiffctl_parse(&ca, argc, argv, err, sizeof(err));
	if (fd >= 0)
		close(fd);
	free(buf);
	return 0;
}
