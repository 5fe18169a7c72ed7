/*
 * Control-socket request codec (see include/sluice/ctl.h).  Pure: the daemon,
 * sluicectl and the unit tests use it; the socket I/O lives elsewhere.
 */
#include <errno.h>
#include <string.h>

#include <sluice/ctl.h>

int ctl_req_encode(uint8_t *buf, size_t cap, unsigned int flags, int argc, char *const argv[])
{
	size_t len = 1;
	int i;

	if (flags & ~CTL_F_JSON)
		return -EINVAL;
	if (argc < 1 || argv == NULL)
		return -EINVAL;
	if (argc > CTL_MAX_ARGS)
		return -E2BIG;
	for (i = 0; i < argc; i++) {
		if (argv[i] == NULL || argv[i][0] == '\0')
			return -EINVAL;
		len += strlen(argv[i]) + 1;
		if (len > CTL_MAX_REQ)
			return -EMSGSIZE;
	}
	if (len > cap)
		return -EMSGSIZE;
	buf[0] = (uint8_t)flags;
	len = 1;
	for (i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;

		memcpy(buf + len, argv[i], n);
		len += n;
	}
	return (int)len;
}

int ctl_req_decode(uint8_t *buf, size_t len, unsigned int *flags, char *argv[CTL_MAX_ARGS])
{
	size_t off = 1;
	int argc = 0;

	if (buf == NULL || len < 1)
		return -EINVAL;
	if (len > CTL_MAX_REQ)
		return -EMSGSIZE;
	if (buf[0] & ~CTL_F_JSON)
		return -EINVAL;
	/* the payload must end with the NUL of its last token */
	if (len < 3 || buf[len - 1] != '\0')
		return -EINVAL;
	while (off < len) {
		size_t n = strlen((char *)buf + off);

		if (n == 0)
			return -EINVAL;
		if (argc == CTL_MAX_ARGS)
			return -E2BIG;
		argv[argc++] = (char *)buf + off;
		off += n + 1;
	}
	if (argc < CTL_MAX_ARGS)
		argv[argc] = NULL;
	*flags = buf[0];
	return argc;
}
