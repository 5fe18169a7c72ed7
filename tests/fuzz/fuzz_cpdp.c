/* libFuzzer: ring message validation accepts only well-formed messages. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/cpdp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cpdp_msg m;

	if (size != sizeof(m))
		return 0;
	memcpy(&m, data, sizeof(m));
	if (cpdp_msg_check(&m) == 0) {
		if (m.version != CPDP_VERSION)
			abort();
		if ((m.type == CPDP_ROUTE_ADD || m.type == CPDP_ROUTE_DEL) &&
		    (m.u.route.plen > 32 ||
		     (m.u.route.plen < 32 && (m.u.route.prefix & (0xffffffffu >> m.u.route.plen)))))
			abort();
	}
	(void)cpdp_type_str(m.type);
	return 0;
}
