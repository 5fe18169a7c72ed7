/* libFuzzer: ClientHello inspection reads only what it was given, always
 * terminates the name, and a parse never depends on bytes past the input. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apps/tls_hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1);
	struct tls_hello h;
	int r;

	if (!b)
		return 0;
	memcpy(b, data, size);
	r = tls_hello_parse(b, size, &h);
	if (r != 0 && r != -EAGAIN && r != -EPROTO)
		abort();
	if (r == 0 && strlen(h.sni) > TLS_SNI_MAX)
		abort();
	free(b);
	return 0;
}
