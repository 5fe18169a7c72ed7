/* show crypto: the AEAD engine sluice-dp chose at start, and why. */
#include <stdio.h>

#include "cmds.h"
#include "table.h"

static const char *const alg_name[SL_AEAD_ALGS] = { "aes-128-gcm", "aes-256-gcm", "chacha20-poly1305" };
static const char *const size_name[SL_AEAD_SIZES] = { "<=2KB", ">2KB" };
static const char *const eng_name[SL_AEAD_ENGINES] = { "ipsec-mb", "openssl" };

int cmd_show_crypto(struct cmd_ctx *c, int argc, char *argv[])
{
	static const char *const hdr[] = { "aead", "records", "engine", ">ipsec-mb Gb/s", ">openssl Gb/s", "why" };
	const struct sl_crypto_view *v = &c->dp->shm->crypto;
	struct tbl t;
	unsigned int n = 0;

	if (cmd_no_args(c, argc, argv))
		return -1;
	if (c->json) {
		json_obj(&c->j, NULL);
		json_bool(&c->j, "forced", v->forced);
		json_u64(&c->j, "measure_ms", v->measure_ms);
		json_arr(&c->j, "choices");
	} else {
		tbl_init(&t, 6, hdr);
	}
	for (unsigned int a = 0; a < SL_AEAD_ALGS; a++) {
		for (unsigned int s = 0; s < SL_AEAD_SIZES; s++, n++) {
			unsigned int e = v->eng[a][s] < SL_AEAD_ENGINES ? v->eng[a][s] : 0;
			const char *why = v->forced ? "forced by crypto.engine" : "faster here";

			if (!v->forced && (v->gbps[a][s][0] == 0 || v->gbps[a][s][1] == 0))
				why = "only engine available";
			if (c->json) {
				json_obj(&c->j, NULL);
				json_str(&c->j, "aead", alg_name[a]);
				json_str(&c->j, "records", size_name[s]);
				json_str(&c->j, "engine", eng_name[e]);
				json_double(&c->j, "ipsecmb_gbps", v->gbps[a][s][0], 2);
				json_double(&c->j, "openssl_gbps", v->gbps[a][s][1], 2);
				json_str(&c->j, "why", why);
				json_close(&c->j);
			} else {
				tbl_cell(&t, "%s", alg_name[a]);
				tbl_cell(&t, "%s", size_name[s]);
				tbl_cell(&t, "%s", eng_name[e]);
				tbl_cell(&t, "%.2f", v->gbps[a][s][0]);
				tbl_cell(&t, "%.2f", v->gbps[a][s][1]);
				tbl_cell(&t, "%s", why);
			}
		}
	}
	cmd_list_end(c, &t, n, "no crypto engine");
	return 0;
}
