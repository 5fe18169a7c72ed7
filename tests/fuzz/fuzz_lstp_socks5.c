/*
 * libFuzzer: sluice-lstp's SOCKS5 codec (lstp/socks5.c).  The first byte
 * picks the parser; the rest is what a local SOCKS5 client (or, for the
 * client-side parsers, a SOCKS5 proxy) sent.  Every parser must stay
 * inside the buffer, consume no more than it was given, and a request it
 * accepts must be one it can describe (a printable name, an IPv4 address).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lstp/socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct socks5_greeting g;
	struct socks5_req r;
	char user[256], pass[256];
	uint8_t v, out[600];
	size_t used = (size_t)-1;
	int rc;

	if (size < 1)
		return 0;
	v = data[0];
	data++;
	size--;
	switch (v % 6) {
	case 0:
		rc = socks5_greeting_parse(data, size, &g, &used);
		break;
	case 1:
		rc = socks5_auth_parse(data, size, user, pass, &used);
		if (rc == 0 && (strlen(user) == 0 || strlen(pass) == 0))
			abort();
		break;
	case 2:
		rc = socks5_req_parse(data, size, &r, &used);
		if (rc == 0) {
			if (r.cmd != SOCKS5_CMD_CONNECT)
				abort();
			if (r.atyp == SOCKS5_ATYP_DOMAIN &&
			    (r.name_len == 0 || strlen(r.name) != r.name_len))
				abort();
			if (r.atyp != SOCKS5_ATYP_DOMAIN && r.atyp != SOCKS5_ATYP_IPV4)
				abort();
		}
		if (rc == -ENOTSUP && r.rep != SOCKS5_REP_CMD && r.rep != SOCKS5_REP_ATYP)
			abort();
		break;
	case 3:
		rc = socks5_client_method_parse(data, size, &v, &used);
		break;
	case 4:
		rc = socks5_client_reply_parse(data, size, &v, &used);
		break;
	default: {
		/* the encoders, from fuzzed strings */
		char host[300];
		size_t n = size < sizeof(host) - 1 ? size : sizeof(host) - 1;

		memcpy(host, data, n);
		host[n] = '\0';
		rc = socks5_client_connect(out, sizeof(out), host, 80);
		if (rc > (int)sizeof(out))
			abort();
		rc = socks5_client_auth(out, sizeof(out), host, host);
		if (rc > (int)sizeof(out))
			abort();
		return 0;
	}
	}
	if (rc == 0 && used > size)
		abort();
	if (rc != 0 && rc != -EAGAIN && rc != -EBADMSG && rc != -ENOTSUP)
		abort();
	return 0;
}
