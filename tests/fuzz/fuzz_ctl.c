/* libFuzzer: control-socket request decoding (bytes from any local client). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/ctl.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1);
	char *argv[CTL_MAX_ARGS];
	unsigned int flags;
	int argc;

	if (!b)
		return 0;
	memcpy(b, data, size);
	argc = ctl_req_decode(b, size, &flags, argv);
	if (argc > 0) {
		/* every token lies inside the buffer and is non-empty; what
		 * decodes re-encodes to the same bytes */
		uint8_t out[CTL_MAX_REQ];
		int n;

		if (argc > CTL_MAX_ARGS)
			abort();
		for (int i = 0; i < argc; i++)
			if ((uint8_t *)argv[i] < b || (uint8_t *)argv[i] >= b + size || !argv[i][0])
				abort();
		n = ctl_req_encode(out, sizeof(out), flags, argc, argv);
		if (n != (int)size || memcmp(out, data, size) != 0)
			abort();
	}
	free(b);
	return 0;
}
