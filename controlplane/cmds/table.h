/* Aligned text columns for human output (like `ip -s link` or grout). */
#ifndef SLUICE_CP_TABLE_H
#define SLUICE_CP_TABLE_H

#include <stdbool.h>

#include "../out.h"

#define TBL_MAX_COLS 16

struct tbl {
	unsigned int ncol;
	unsigned int ncell;
	unsigned int cap;
	char **cell;              /* row-major; row 0 is the header */
	bool right[TBL_MAX_COLS]; /* numbers align right */
	bool oom;
};

/* Header names; a leading '>' right-aligns the column (and is not shown). */
void tbl_init(struct tbl *t, unsigned int ncol, const char *const hdr[]);
/* Append the next cell (rows fill left to right). */
void tbl_cell(struct tbl *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print every row, each prefixed with `indent`, columns two spaces apart. */
void tbl_print(struct tbl *t, struct sbuf *b, const char *indent);
void tbl_free(struct tbl *t);

#endif
