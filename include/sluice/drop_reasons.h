/* Drop reasons: enum and names generated from drop_reasons.def. */
#ifndef SLUICE_DROP_REASONS_H
#define SLUICE_DROP_REASONS_H

enum sl_drop {
#define DROP(e, name, help) SL_DROP_##e,
#include "drop_reasons.def"
#undef DROP
	SL_DROP_MAX
};

static inline const char *sl_drop_str(unsigned int d)
{
	static const char *const names[] = {
#define DROP(e, name, help) [SL_DROP_##e] = name,
#include "drop_reasons.def"
#undef DROP
	};
	return d < SL_DROP_MAX ? names[d] : "unknown";
}

static inline const char *sl_drop_help(unsigned int d)
{
	static const char *const help[] = {
#define DROP(e, name, h) [SL_DROP_##e] = h,
#include "drop_reasons.def"
#undef DROP
	};
	return d < SL_DROP_MAX ? help[d] : "";
}

#endif
