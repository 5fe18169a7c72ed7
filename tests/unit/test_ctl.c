/* Control-socket request codec: round trips and malformed payloads. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <sluice/ctl.h>

static void test_roundtrip(void **state)
{
	char *in[] = { "route", "add", "10.0.0.0/8", "via", "198.19.0.2" };
	uint8_t buf[CTL_MAX_REQ];
	char *argv[CTL_MAX_ARGS];
	unsigned int flags = 0xff;
	int len, argc;

	(void)state;
	len = ctl_req_encode(buf, sizeof(buf), CTL_F_JSON, 5, in);
	assert_int_equal(len, 1 + 6 + 4 + 11 + 4 + 11);
	assert_int_equal(buf[0], CTL_F_JSON);
	argc = ctl_req_decode(buf, (size_t)len, &flags, argv);
	assert_int_equal(argc, 5);
	assert_int_equal(flags, CTL_F_JSON);
	for (int i = 0; i < 5; i++)
		assert_string_equal(argv[i], in[i]);

	/* no flags, one token */
	len = ctl_req_encode(buf, sizeof(buf), 0, 1, in);
	assert_int_equal(len, 7);
	argc = ctl_req_decode(buf, (size_t)len, &flags, argv);
	assert_int_equal(argc, 1);
	assert_int_equal(flags, 0);
	assert_string_equal(argv[0], "route");
}

static void test_max_args(void **state)
{
	char *in[CTL_MAX_ARGS + 1];
	uint8_t buf[CTL_MAX_REQ];
	char *argv[CTL_MAX_ARGS];
	unsigned int flags;
	int len;

	(void)state;
	for (int i = 0; i <= CTL_MAX_ARGS; i++)
		in[i] = "x";
	len = ctl_req_encode(buf, sizeof(buf), 0, CTL_MAX_ARGS, in);
	assert_true(len > 0);
	assert_int_equal(ctl_req_decode(buf, (size_t)len, &flags, argv), CTL_MAX_ARGS);
	assert_int_equal(ctl_req_encode(buf, sizeof(buf), 0, CTL_MAX_ARGS + 1, in), -E2BIG);

	/* a hand-made payload with one token too many */
	buf[0] = 0;
	for (int i = 0; i <= CTL_MAX_ARGS; i++) {
		buf[1 + 2 * i] = 'x';
		buf[2 + 2 * i] = '\0';
	}
	assert_int_equal(ctl_req_decode(buf, 1 + 2 * (CTL_MAX_ARGS + 1), &flags, argv), -E2BIG);
}

static void test_encode_rejects(void **state)
{
	char *empty[] = { "show", "" };
	char *withnull[] = { "show", NULL };
	char *one[] = { "show" };
	uint8_t buf[CTL_MAX_REQ];

	(void)state;
	assert_int_equal(ctl_req_encode(buf, sizeof(buf), 0, 2, empty), -EINVAL);
	assert_int_equal(ctl_req_encode(buf, sizeof(buf), 0, 2, withnull), -EINVAL);
	assert_int_equal(ctl_req_encode(buf, sizeof(buf), 0, 0, one), -EINVAL);
	assert_int_equal(ctl_req_encode(buf, sizeof(buf), 0x02, 1, one), -EINVAL);
	/* does not fit the caller's buffer: 1 + "show\0" = 6 */
	assert_int_equal(ctl_req_encode(buf, 5, 0, 1, one), -EMSGSIZE);
	assert_int_equal(ctl_req_encode(buf, 6, 0, 1, one), 6);
}

static void test_encode_oversize(void **state)
{
	static char big[CTL_MAX_REQ];
	static uint8_t buf[2 * CTL_MAX_REQ];
	char *in[] = { big };

	(void)state;
	/* 1 flag byte + token + NUL must fit CTL_MAX_REQ */
	memset(big, 'a', CTL_MAX_REQ - 3);
	big[CTL_MAX_REQ - 3] = '\0';
	assert_int_equal(ctl_req_encode(buf, sizeof(buf), 0, 1, in), CTL_MAX_REQ - 1);
	big[CTL_MAX_REQ - 3] = 'a';
	big[CTL_MAX_REQ - 2] = '\0';
	assert_int_equal(ctl_req_encode(buf, sizeof(buf), 0, 1, in), CTL_MAX_REQ);
	big[CTL_MAX_REQ - 2] = 'a';
	big[CTL_MAX_REQ - 1] = '\0';
	assert_int_equal(ctl_req_encode(buf, sizeof(buf), 0, 1, in), -EMSGSIZE);
}

static void test_decode_malformed(void **state)
{
	char *argv[CTL_MAX_ARGS];
	unsigned int flags;
	uint8_t buf[64];

	(void)state;
	/* no trailing NUL */
	memcpy(buf, "\0show\0ports", 11);
	assert_int_equal(ctl_req_decode(buf, 11, &flags, argv), -EINVAL);
	/* empty token in the middle, at the start, and a lone NUL */
	memcpy(buf, "\0show\0\0ports\0", 13);
	assert_int_equal(ctl_req_decode(buf, 13, &flags, argv), -EINVAL);
	memcpy(buf, "\0\0show\0", 7);
	assert_int_equal(ctl_req_decode(buf, 7, &flags, argv), -EINVAL);
	memcpy(buf, "\0\0", 2);
	assert_int_equal(ctl_req_decode(buf, 2, &flags, argv), -EINVAL);
	/* trailing empty token */
	memcpy(buf, "\0show\0\0", 7);
	assert_int_equal(ctl_req_decode(buf, 7, &flags, argv), -EINVAL);
	/* unknown flag bits */
	memcpy(buf, "\x02show\0", 6);
	assert_int_equal(ctl_req_decode(buf, 6, &flags, argv), -EINVAL);
	memcpy(buf, "\x81show\0", 6);
	assert_int_equal(ctl_req_decode(buf, 6, &flags, argv), -EINVAL);
	/* flags only, nothing at all */
	buf[0] = 0;
	assert_int_equal(ctl_req_decode(buf, 1, &flags, argv), -EINVAL);
	assert_int_equal(ctl_req_decode(buf, 0, &flags, argv), -EINVAL);
	/* and a well-formed one still decodes */
	memcpy(buf, "\x01show\0", 6);
	assert_int_equal(ctl_req_decode(buf, 6, &flags, argv), 1);
	assert_int_equal(flags, CTL_F_JSON);
}

static void test_decode_oversize(void **state)
{
	static uint8_t buf[CTL_MAX_REQ + 1];
	char *argv[CTL_MAX_ARGS];
	unsigned int flags;

	(void)state;
	memset(buf, 'a', sizeof(buf));
	buf[0] = 0;
	buf[CTL_MAX_REQ] = '\0';
	assert_int_equal(ctl_req_decode(buf, CTL_MAX_REQ + 1, &flags, argv), -EMSGSIZE);
	buf[CTL_MAX_REQ - 1] = '\0';
	assert_int_equal(ctl_req_decode(buf, CTL_MAX_REQ, &flags, argv), 1);
	assert_int_equal(strlen(argv[0]), CTL_MAX_REQ - 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_max_args),
		cmocka_unit_test(test_encode_rejects),
		cmocka_unit_test(test_encode_oversize),
		cmocka_unit_test(test_decode_malformed),
		cmocka_unit_test(test_decode_oversize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
