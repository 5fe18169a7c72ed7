/* Aligned text columns (see table.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

void tbl_init(struct tbl *t, unsigned int ncol, const char *const hdr[])
{
	unsigned int i;

	memset(t, 0, sizeof(*t));
	t->ncol = ncol > TBL_MAX_COLS ? TBL_MAX_COLS : ncol;
	for (i = 0; i < t->ncol; i++) {
		const char *h = hdr[i];

		if (h[0] == '>') {
			t->right[i] = true;
			h++;
		}
		tbl_cell(t, "%s", h);
	}
}

void tbl_cell(struct tbl *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (t->oom)
		return;
	if (t->ncell == t->cap) {
		unsigned int cap = t->cap ? t->cap * 2 : 64;
		char **p = realloc(t->cell, cap * sizeof(*p));

		if (p == NULL) {
			t->oom = true;
			return;
		}
		t->cell = p;
		t->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		t->oom = true;
		s = NULL;
	}
	va_end(ap);
	if (s)
		t->cell[t->ncell++] = s;
}

void tbl_print(struct tbl *t, struct sbuf *b, const char *indent)
{
	size_t w[TBL_MAX_COLS] = { 0 };
	unsigned int i;

	if (t->oom) {
		b->oom = true;
		return;
	}
	for (i = 0; i < t->ncell; i++) {
		size_t n = strlen(t->cell[i]);

		if (n > w[i % t->ncol])
			w[i % t->ncol] = n;
	}
	for (i = 0; i < t->ncell; i++) {
		unsigned int col = i % t->ncol;
		int last = col == t->ncol - 1 || i == t->ncell - 1;

		if (col == 0)
			sbuf_puts(b, indent);
		if (t->right[col])
			sbuf_printf(b, "%*s", (int)w[col], t->cell[i]);
		else if (last)
			sbuf_puts(b, t->cell[i]); /* no trailing blanks */
		else
			sbuf_printf(b, "%-*s", (int)w[col], t->cell[i]);
		sbuf_puts(b, last ? "\n" : "  ");
	}
}

void tbl_free(struct tbl *t)
{
	unsigned int i;

	for (i = 0; i < t->ncell; i++)
		free(t->cell[i]);
	free(t->cell);
	memset(t, 0, sizeof(*t));
}
